import numpy as np

from dlib_torch.data.ground_truth import dsprites_variants
from dlib_torch.data.ground_truth import named_data


def test_color_dsprites_colours_the_sprite_only():
    data = named_data.get_named_ground_truth_data("color_dsprites_procedural")
    assert data.observation_shape == [64, 64, 3] and data.factors_num_values == [3, 6, 40, 32, 32]
    factors = data.sample_factors(10, np.random.RandomState(0))
    images = data.sample_observations_from_factors(factors, np.random.RandomState(1))
    binary = data.base.sample_observations_from_factors(factors, np.random.RandomState(1))[..., 0]
    assert images.shape == (10, 64, 64, 3)
    assert np.all(images[binary == 0] == 0)
    sprite = images[binary == 1]
    assert sprite.min() >= 0.5 and sprite.max() <= 1.0
    assert len(np.unique(images[:, :, :, 0][binary == 1])) > 1  # colours differ between images


def test_noisy_dsprites_keeps_sprite_white_over_noise():
    data = named_data.get_named_ground_truth_data("noisy_dsprites_procedural")
    factors = data.sample_factors(4, np.random.RandomState(0))
    images = data.sample_observations_from_factors(factors, np.random.RandomState(1))
    binary = data.base.sample_observations_from_factors(factors, np.random.RandomState(1))[..., 0]
    assert np.all(images[binary == 1] == 1.0)
    background = images[binary == 0]
    assert 0.45 < background.mean() < 0.55 and background.std() > 0.2


def test_scream_dsprites_inverts_the_patch_under_the_sprite():
    base = named_data.get_named_ground_truth_data("dsprites_procedural")
    painting = np.full((274, 350, 3), 0.2, dtype=np.float32)  # a flat painting makes every patch the same
    data = dsprites_variants.ScreamDSprites(base, painting)
    factors = data.sample_factors(3, np.random.RandomState(0))
    images = data.sample_observations_from_factors(factors, np.random.RandomState(1))
    binary = base.sample_observations_from_factors(factors, np.random.RandomState(1))[..., 0]
    assert images.shape == (3, 64, 64, 3)
    for image, mask in zip(images, binary):
        background = image[mask == 0]
        colour = background[0]
        assert np.allclose(background, colour)  # (patch + random colour) / 2, one colour per image
        assert np.all((colour >= 0.1) & (colour <= 0.6))
        np.testing.assert_allclose(image[mask == 1], np.broadcast_to(1 - colour, image[mask == 1].shape), atol=1e-6)
