"""Tests of dlib_torch/evaluation/code_cache.py (with row_observations.py and metric_inputs.py): each distinct
observation is encoded once across metrics, values equal direct encoding, sampled noise is fresh per call."""
from typing import Optional
from typing import Tuple

import gin
import numpy as np
import pytest
import torch
from torch import nn

from dlib_torch.data.ground_truth import dsprites_procedural
from dlib_torch.data.ground_truth import ground_truth_data
from dlib_torch.data.ground_truth import named_data
from dlib_torch.data.ground_truth import util
from dlib_torch.evaluation import code_cache
from dlib_torch.evaluation import evaluate
from dlib_torch.evaluation import metric_inputs
from dlib_torch.evaluation import row_observations
from dlib_torch.evaluation.metrics import beta_vae
from dlib_torch.evaluation.metrics import factor_vae
from dlib_torch.evaluation.metrics import mig
from dlib_torch.postprocessing import postprocess
from dlib_torch.utils import exported_modules

CPU = torch.device("cpu")


class CountingRepresentation(nn.Module):
    """An exported representation that counts the images its encoder sees (and the largest batch)."""

    uses_noise: bool

    def __init__(self, representation):
        super().__init__()
        self.representation = representation
        self.encoder = representation.encoder
        self.uses_noise = bool(representation.uses_noise)
        self.register_buffer("images_encoded", torch.zeros((), dtype=torch.int64))
        self.register_buffer("largest_batch", torch.zeros((), dtype=torch.int64))

    def _count(self, images: torch.Tensor):
        self.images_encoded += images.shape[0]
        self.largest_batch.fill_(max(int(self.largest_batch), images.shape[0]))

    def forward(self, images):
        self._count(images)
        return self.representation(images)

    @torch.jit.export
    def gaussian_encoder(self, images) -> Tuple[torch.Tensor, torch.Tensor]:
        self._count(images)
        return self.representation.gaussian_encoder(images)

    @torch.jit.export
    def from_gaussian(self, mean: torch.Tensor, logvar: torch.Tensor, noise: Optional[torch.Tensor]) -> torch.Tensor:
        return self.representation.from_gaussian(mean, logvar, noise)


class RecordingData(ground_truth_data.GroundTruthData):
    """A real data set that records the factor rows of every observation it renders."""

    def __init__(self, data):
        self.data = data
        self.rendered_rows = []

    num_factors = property(lambda self: self.data.num_factors)
    factors_num_values = property(lambda self: self.data.factors_num_values)
    observation_shape = property(lambda self: self.data.observation_shape)
    observations_are_deterministic = property(lambda self: self.data.observations_are_deterministic)

    def sample_factors(self, num, random_state):
        return self.data.sample_factors(num, random_state)

    def sample_observations_from_factors(self, factors, random_state):
        self.rendered_rows.append(util.factors_to_rows(factors, self.data.factors_num_values))
        return self.data.sample_observations_from_factors(factors, random_state)

    def rows(self):
        return np.concatenate(self.rendered_rows) if self.rendered_rows else np.zeros(0, dtype=np.int64)


@pytest.fixture(autouse=True)
def _fresh_state():
    code_cache.clear()
    gin.clear_config()
    yield
    gin.clear_config()
    code_cache.clear()


def _postprocessed(tiny_model, tmp_path, method="mean_representation", *model_bindings):
    output_dir = str(tmp_path / method)
    postprocess.postprocess_with_gin(tiny_model(*model_bindings), output_dir, False, [],
                                     ["postprocess.postprocess_fn = @{}".format(method), "dataset.name = 'auto'",
                                      "postprocess.random_seed = 0"])
    return exported_modules.exported_path(output_dir, exported_modules.REPRESENTATION)


def _counting_module(representation_path, tmp_path):
    """Wraps an exported representation in CountingRepresentation, saved and loaded as TorchScript."""
    path = str(tmp_path / "counting.pt")
    torch.jit.save(torch.jit.script(CountingRepresentation(exported_modules.load(representation_path))), path)
    return exported_modules.load(path)


def _runtime(**settings):
    runtime = evaluate.evaluation_runtime()
    for name, value in settings.items():
        setattr(runtime, name, value)
    return runtime


def _three_metrics(data, representation_function):
    gin.parse_config("discretizer.discretizer_fn = @histogram_discretizer\ndiscretizer.num_bins = 20")
    return [
        mig.compute_mig(data, representation_function, np.random.RandomState(1), num_train=300, batch_size=16),
        beta_vae.compute_beta_vae_sklearn(data, representation_function, np.random.RandomState(2), batch_size=8,
                                          num_train=40, num_eval=20),
        factor_vae.compute_factor_vae(data, representation_function, np.random.RandomState(3), batch_size=8,
                                      num_train=40, num_eval=20, num_variance_estimate=200),
    ]


def test_each_distinct_observation_is_encoded_once_across_metrics_with_the_direct_values(tiny_model, tmp_path):
    representation_path = _postprocessed(tiny_model, tmp_path)
    runtime = _runtime(fill_grid_fraction=None)

    direct_module = _counting_module(representation_path, tmp_path)
    direct_data = RecordingData(dsprites_procedural.ProceduralDSprites())
    data, representation_function, mode = metric_inputs.metric_inputs(
        direct_data, direct_module, 0, CPU, _runtime(cache_codes=False))
    assert mode == "direct"
    direct_scores = _three_metrics(data, representation_function)
    requested = direct_data.rows()
    assert int(direct_module.images_encoded) == requested.size

    cached_module = _counting_module(representation_path, tmp_path)
    cached_data = RecordingData(dsprites_procedural.ProceduralDSprites())
    data, representation_function, mode = metric_inputs.metric_inputs(cached_data, cached_module, 0, CPU, runtime)
    assert mode == "cached"
    cached_data.rendered_rows.clear()  # forget the few rows rendered to probe and fingerprint the data set
    assert _three_metrics(data, representation_function) == direct_scores
    encoded = cached_data.rows()
    assert np.unique(encoded).size == encoded.size  # no observation rendered (or encoded) twice
    assert set(encoded) == set(requested)
    assert int(cached_module.images_encoded) == np.unique(requested).size < requested.size

    # A second evaluation run in the process (another metric, the sampled representation) encodes nothing new.
    sampled_path = _postprocessed(tiny_model, tmp_path, "sampled_representation")
    sampled_module = _counting_module(sampled_path, tmp_path)
    data, representation_function, mode = metric_inputs.metric_inputs(cached_data, sampled_module, 5, CPU, runtime)
    assert mode == "cached"
    _three_metrics(data, representation_function)
    assert int(sampled_module.images_encoded) == 0
    assert len(code_cache.cache_statistics()) == 1


def test_cached_mean_codes_equal_direct_encoding(tiny_model, tmp_path):
    module = exported_modules.load(_postprocessed(tiny_model, tmp_path))
    data = dsprites_procedural.ProceduralDSprites()
    factors = data.sample_factors(500, np.random.RandomState(0))
    view, representation_function, _ = metric_inputs.metric_inputs(data, module, 0, CPU, _runtime())
    cached = representation_function(view.sample_observations_from_factors(factors, None))
    with torch.no_grad():
        direct = module(torch.from_numpy(data.sample_observations_from_factors(factors, np.random.RandomState(0)))).numpy()
    np.testing.assert_allclose(cached, direct, rtol=1e-5, atol=1e-6)


def test_sampled_noise_is_fresh_per_call_seeded_and_distributed_as_direct_encoding(tiny_model, tmp_path):
    module = exported_modules.load(_postprocessed(tiny_model, tmp_path, "sampled_representation"))
    data = dsprites_procedural.ProceduralDSprites()
    view, representation_function, _ = metric_inputs.metric_inputs(data, module, 7, CPU, _runtime())
    rows = np.full(4000, 12345)
    first, second = representation_function(rows), representation_function(rows)
    assert not np.allclose(first, second)
    assert len(np.unique(first, axis=0)) == len(first)  # every row of a call gets its own noise
    _, same_seed, _ = metric_inputs.metric_inputs(data, module, 7, CPU, _runtime())
    np.testing.assert_array_equal(same_seed(rows), first)  # the noise stream is seeded (evaluation.random_seed)

    image = data.sample_observations_from_factors(view.rows_to_factors(rows[:1]), np.random.RandomState(0))
    torch.manual_seed(7)
    with torch.no_grad():
        direct = module(torch.from_numpy(np.repeat(image, 4000, axis=0))).numpy()
        mean, logvar = [t.numpy()[0] for t in module.gaussian_encoder(torch.from_numpy(image))]
    std = np.exp(logvar / 2)
    for codes in (first, direct):
        np.testing.assert_allclose(codes.mean(axis=0), mean, atol=5 * std.max() / np.sqrt(len(rows)))
        np.testing.assert_allclose(codes.std(axis=0), std, rtol=0.08)


def test_the_grid_is_filled_in_large_batches_once_a_fraction_was_asked_for(tiny_model, tmp_path, small_sprites):
    module = _counting_module(_postprocessed(tiny_model, tmp_path), tmp_path)
    runtime = _runtime(fill_grid_fraction=0.3, encode_batch_size=5)
    view, representation_function, mode = metric_inputs.metric_inputs(small_sprites, module, 0, CPU, runtime)
    assert mode == "cached"
    for row in (0, 1, 2):  # a metric asking one observation at a time
        representation_function(np.array([row]))
    assert int(module.images_encoded) == 3 and int(module.largest_batch) == 1
    representation_function(np.array([3]))  # 4 of 12 rows >= 30 %: the other 8 follow in batches of 5
    assert int(module.images_encoded) == 12 and int(module.largest_batch) == 5
    codes = representation_function(np.arange(12))
    assert int(module.images_encoded) == 12
    with torch.no_grad():
        direct = module(torch.from_numpy(small_sprites.sample_observations_from_factors(
            view.rows_to_factors(np.arange(12)), None))).numpy()
    np.testing.assert_allclose(codes, direct, rtol=1e-5, atol=1e-6)


def test_a_cache_too_large_to_store_encodes_each_call_and_stays_correct(tiny_model, tmp_path, small_sprites):
    module = _counting_module(_postprocessed(tiny_model, tmp_path), tmp_path)
    runtime = _runtime(max_cache_megabytes=1e-5)  # 10 bytes: not even one row
    view, representation_function, _ = metric_inputs.metric_inputs(small_sprites, module, 0, CPU, runtime)
    rows = np.array([3, 1, 3, 7])
    codes = representation_function(rows)
    representation_function(rows)
    assert int(module.images_encoded) == 6  # the 3 distinct rows of each call
    with torch.no_grad():
        direct = module(torch.from_numpy(small_sprites.sample_observations_from_factors(
            view.rows_to_factors(rows), None))).numpy()
    np.testing.assert_allclose(codes, direct, rtol=1e-5, atol=1e-6)


class DrawingSprites(dsprites_procedural.ProceduralDSprites):
    """Claims deterministic images but draws from the random state while rendering."""

    def sample_observations_from_factors(self, factors, random_state):
        random_state.randint(2)
        return super().sample_observations_from_factors(factors, random_state)


def test_data_sets_that_are_not_cacheable_are_encoded_directly(tiny_model, tmp_path):
    module = exported_modules.load(_postprocessed(tiny_model, tmp_path))
    noisy = named_data.DATASETS["noisy_dsprites_procedural"]()
    assert not metric_inputs.can_cache(noisy, module)
    drawing = DrawingSprites()
    assert drawing.observations_are_deterministic and row_observations.consumes_random_state(drawing)
    data, _, mode = metric_inputs.metric_inputs(drawing, module, 0, CPU, _runtime())
    assert mode == "direct" and data is drawing
    assert not row_observations.consumes_random_state(dsprites_procedural.ProceduralDSprites())


def test_ground_truth_decoder_codes_are_the_scaled_factors_of_the_rows(tiny_model, tmp_path):
    module = exported_modules.load(_postprocessed(tiny_model, tmp_path, "mean_representation",
                                                  "model.model = @gt_decoder()"))
    data = dsprites_procedural.ProceduralDSprites()
    view, representation_function, mode = metric_inputs.metric_inputs(data, module, 0, CPU, _runtime())
    assert mode == "factors"
    factors = data.sample_factors(50, np.random.RandomState(0))
    codes = representation_function(view.sample_observations_from_factors(factors, None))
    np.testing.assert_allclose(codes, factors / (np.array(data.factors_num_values) - 1), rtol=1e-6)


def test_fingerprints_tell_encoders_and_data_sets_apart(tiny_model, tmp_path, small_sprites):
    mean = exported_modules.load(_postprocessed(tiny_model, tmp_path))
    sampled = exported_modules.load(_postprocessed(tiny_model, tmp_path, "sampled_representation"))
    other = exported_modules.load(_postprocessed(tiny_model, tmp_path / "other", "mean_representation",
                                                 "model.random_seed = 1"))
    assert code_cache.encoder_fingerprint(mean) == code_cache.encoder_fingerprint(sampled)
    assert code_cache.encoder_fingerprint(mean) != code_cache.encoder_fingerprint(other)
    procedural = dsprites_procedural.ProceduralDSprites()
    assert code_cache.data_fingerprint(procedural) == code_cache.data_fingerprint(
        dsprites_procedural.ProceduralDSprites())
    assert code_cache.data_fingerprint(procedural) != code_cache.data_fingerprint(small_sprites)


def test_fast_mode_encodes_with_a_frozen_encoder_in_a_cache_of_its_own(tiny_model, tmp_path):
    module = exported_modules.load(_postprocessed(tiny_model, tmp_path))
    assert isinstance(code_cache.optimized_encoder(module, CPU), torch.jit.ScriptModule)
    assert code_cache.optimized_encoder(module, torch.device("cuda")) is None  # CPU inference only
    data = dsprites_procedural.ProceduralDSprites()
    rows = np.random.RandomState(0).randint(ground_truth_data.factor_grid_size(data), size=300)
    _, parity, _ = metric_inputs.metric_inputs(data, module, 0, CPU, _runtime())
    _, fast, _ = metric_inputs.metric_inputs(data, module, 0, CPU, _runtime(mode="fast"))
    parity_codes, fast_codes = parity(rows), fast(rows)
    assert len(code_cache.cache_statistics()) == 2  # fast codes never serve a parity run, nor the reverse
    np.testing.assert_allclose(fast_codes, parity_codes, rtol=1e-5, atol=1e-6)
    _, parity_again, _ = metric_inputs.metric_inputs(data, module, 0, CPU, _runtime())
    np.testing.assert_array_equal(parity_again(rows), parity_codes)  # served by parity's own cache


def test_rows_are_rendered_in_large_chunks_and_encoded_in_the_encoders_batches(tiny_model, tmp_path):
    module = _counting_module(_postprocessed(tiny_model, tmp_path), tmp_path)
    recording = RecordingData(dsprites_procedural.ProceduralDSprites())
    view, representation_function, _ = metric_inputs.metric_inputs(
        recording, module, 0, CPU, _runtime(encode_batch_size=64, fill_grid_fraction=None))
    rows = np.arange(code_cache.RENDER_ROWS + 100)
    codes = representation_function(rows)
    assert [len(chunk) for chunk in recording.rendered_rows[-2:]] == [code_cache.RENDER_ROWS, 100]
    assert int(module.largest_batch) == 64
    images = dsprites_procedural.ProceduralDSprites().sample_observations_from_factors(
        view.rows_to_factors(rows[:256]), np.random.RandomState(0))
    with torch.no_grad():
        direct = np.concatenate([module(torch.from_numpy(images[start:start + 64])).numpy()
                                 for start in range(0, 256, 64)])
    np.testing.assert_array_equal(codes[:256], direct)  # the same batches of 64: bit for bit
