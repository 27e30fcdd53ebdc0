"""The published records in our terms: train.gin through our gin registry, aggregate records marked."""
import json

import pytest

from dlib_torch.importer import records
from dlib_torch.utils.errors import UserError


def test_train_gin_keeps_what_we_know_and_lists_what_we_drop():
    reference = "\n".join([
        "# Parameters for model:", "model.batch_size = 64", "model.model = @factor_vae()",
        "factor_vae.gamma = 10.0", "discriminator.discriminator_fn = @fc_discriminator",
        "discriminator_optimizer.optimizer_fn = @discriminator/AdamOptimizer",
        "discriminator/AdamOptimizer.beta1 = 0.5", "vae.unknown_param = 1",
        "tpu_config.iterations_per_loop = 500", "downstream_task.num_train = \\", "    [10, 100, 1000]", ""])
    text, dropped = records.translate_train_gin(reference)
    bindings = records.gin_bindings(text)
    assert bindings["model.model"] == "@factor_vae()" and bindings["factor_vae.gamma"] == "10.0"
    assert bindings["discriminator_optimizer.optimizer_fn"] == "@discriminator/AdamOptimizer"
    assert bindings["discriminator/AdamOptimizer.beta1"] == "0.5"
    # A parameter our configurable does not take, a TF-only configurable, and one not in a train step's registry.
    assert dropped == ["downstream_task.num_train", "tpu_config.iterations_per_loop", "vae.unknown_param"]


def test_nothing_we_know_is_not_a_model():
    with pytest.raises(UserError, match="holds no binding that dlib_torch knows"):
        records.translate_train_gin("tpu_config.iterations_per_loop = 500\n")


def test_aggregate_records_are_marked_and_damage_is_named():
    marked = json.loads(records.mark_imported(b'{"evaluation_results.discrete_mig": 0.5}', "x.json"))
    assert marked == {"evaluation_results.discrete_mig": 0.5, "source": "disentanglement_lib"}
    with pytest.raises(UserError, match="x.json is not valid JSON"):
        records.mark_imported(b'{"evaluation_results', "x.json")
    assert records.translate_train_results({"elbo": -1.0, "global_step": 3.0, "extra": 1}, "r") == \
        {"elbo": -1.0, "global_step": 3, "extra": 1}
