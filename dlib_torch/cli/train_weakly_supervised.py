"""dtl_train_weakly_supervised: trains a weakly-supervised model configured in gin (disentanglement_lib's
dlib_train_weakly_supervised), e.g. `model.model = @group_vae_argmax()` with `dynamics.k = -1`.

Example: dtl_train_weakly_supervised --model_dir=output/weak/model --gin_config=weak.gin

Flags, records, checkpoints, resume, exit statuses (0 done, 2 bad input, 75 preempted) are those of dtl_train;
the model trains on pairs of observations that differ in a few factors (methods/weak/train_weak_lib.py).
"""
from dlib_torch.cli import train

run = train.trainer_command("dlib_torch.methods.weak.train_weak_lib", "dtl_train_weakly_supervised", __name__)

if __name__ == "__main__":
    run()
