"""dtl_train_semi_supervised: trains a semi-supervised model configured in gin (disentanglement_lib's
dlib_train_semi_supervised), e.g. `model.model = @s2_vae` with `labeller.labeller_fn = @perfect_labeller`.

Example: dtl_train_semi_supervised --model_dir=output/semi/model --gin_config=semi.gin

Flags, records, checkpoints, resume, exit statuses (0 done, 2 bad input, 75 preempted) are those of dtl_train;
the model trains on unlabelled batches plus a few labelled ones
(methods/semi_supervised/train_semi_supervised_lib.py).
"""
from dlib_torch.cli import train

run = train.trainer_command("dlib_torch.methods.semi_supervised.train_semi_supervised_lib",
                            "dtl_train_semi_supervised", __name__)

if __name__ == "__main__":
    run()
