"""The colour, noise and Scream variants of dSprites, as wrappers over any binary dSprites base.

Each wrapper keeps the base's factors and draws its extra randomness from the same `random_state`, with the
reference's distributions, so the file-backed and the procedural bases give the same kind of data. The draws
are made per batch rather than per image (the reference's training drew one image at a time, so its exact
stream cannot be kept in batched sampling anyway).
"""
import numpy as np

from dlib_torch.data.ground_truth import ground_truth_data


class _DSpritesWrapper(ground_truth_data.DataView):
    """The factors of a binary dSprites base; observations become RGB and depend on random draws."""

    @property
    def observation_shape(self):
        return [64, 64, 3]

    @property
    def observations_are_deterministic(self):
        return False


def _rgb(num, channel_fn):
    """[num, 64, 64, 3] float32 filled channel by channel (numpy broadcasts a trailing axis of 3 slowly)."""
    out = np.empty((num, 64, 64, 3), dtype=np.float32)
    for channel in range(3):
        out[..., channel] = channel_fn(channel)
    return out


class ColorDSprites(_DSpritesWrapper):
    """The sprite takes a random RGB colour in [0.5, 1]^3 per image; the background stays black."""

    def sample_observations_from_factors(self, factors, random_state):
        binary = self.base.sample_observations_from_factors(factors, random_state)  # [B, 64, 64, 1]
        color = random_state.uniform(0.5, 1, [binary.shape[0], 1, 1, 3]).astype(np.float32)
        return _rgb(binary.shape[0], lambda c: binary[..., 0] * color[..., c])


class NoisyDSprites(_DSpritesWrapper):
    """The background is uniform noise per pixel and channel; the sprite stays white.

    The noise is drawn as float32 from a PCG64 generator seeded by one draw of `random_state` (deterministic
    given it), which costs less than half of the reference's float64 draw of every pixel from `random_state`
    itself; the distribution is the same. (The reference's exact stream could not be kept anyway: its training
    drew images one at a time, ours in whole batches.)
    """

    def sample_observations_from_factors(self, factors, random_state):
        binary = self.base.sample_observations_from_factors(factors, random_state)
        generator = np.random.default_rng(random_state.randint(2**32))
        noise = generator.random((binary.shape[0], 64, 64, 3), dtype=np.float32)
        # min(sprite + noise, 1) is max(noise, sprite) for a binary sprite and noise in [0, 1).
        for channel in range(3):
            np.maximum(noise[..., channel], binary[..., 0], out=noise[..., channel])
        return noise


class ScreamDSprites(_DSpritesWrapper):
    """The background is a random 64x64 patch of The Scream, colour-shifted; the sprite inverts the patch."""

    def __init__(self, base, scream):
        """`scream` is the painting as a float array [H, W, 3] in [0, 1] (thumbnailed to 350x274)."""
        super().__init__(base)
        self.scream = np.asarray(scream, dtype=np.float32)

    def sample_observations_from_factors(self, factors, random_state):
        binary = self.base.sample_observations_from_factors(factors, random_state)
        num = binary.shape[0]
        # The same draws as the reference's (crop corner, then colour), made for the whole batch at once rather
        # than image by image, which costs a third; the crops are plain slices, and the arithmetic is done
        # one channel at a time.
        x_crop = random_state.randint(0, self.scream.shape[0] - 64, size=num)
        y_crop = random_state.randint(0, self.scream.shape[1] - 64, size=num)
        colour = random_state.uniform(0, 1, size=(num, 3)).astype(np.float32)
        crops = np.empty((num, 64, 64, 3), dtype=np.float32)
        for i in range(num):
            crops[i] = self.scream[x_crop[i]:x_crop[i] + 64, y_crop[i]:y_crop[i] + 64]
        sprite = binary[..., 0] == 1

        def channel(c):
            background = (crops[..., c] + colour[:, c, None, None]) / 2.
            return np.where(sprite, 1 - background, background)

        return _rgb(num, channel)


# Colours of abstract_dsprites, as in disentanglement_lib: the object colours are
# seaborn.husl_palette(n_colors=6, h=0.1, s=0.7, l=0.7); the backgrounds are five greys from black to white.
OBJECT_COLORS = np.array([
    [0.9096231780824386, 0.5883403686424795, 0.3657680693481871],
    [0.6350181801577739, 0.6927729880940552, 0.3626904230371999],
    [0.3764832455369271, 0.7283900430001952, 0.5963114605342514],
    [0.39548987063404156, 0.7073922557810771, 0.7874577552076919],
    [0.6963644829189117, 0.6220697032672371, 0.899716387820763],
    [0.90815966835861, 0.5511103319168646, 0.7494337214212151]])
BACKGROUND_COLORS = np.array([[0., 0., 0.], [.25, .25, .25], [.5, .5, .5], [.75, .75, .75], [1., 1., 1.]])


class AbstractDSprites(_DSpritesWrapper):
    """A sprite in one of 6 colours on one of 5 grey backgrounds (the abstract reasoning study's data).

    Factors: 0 background colour (5), 1 object colour (6), then the base's factors. disentanglement_lib builds
    the base with latent factors [1, 2, 4, 5] (shape, scale, posX, posY), so orientation is a nuisance factor.
    """

    @property
    def num_factors(self):
        return 2 + self.base.num_factors

    @property
    def factors_num_values(self):
        return [len(BACKGROUND_COLORS), len(OBJECT_COLORS)] + list(self.base.factors_num_values)

    @property
    def factor_names(self):
        return ["background_color", "object_color"] + list(self.base.factor_names)

    def sample_factors(self, num, random_state):
        colors = np.zeros((num, 2), dtype=np.int64)
        colors[:, 0] = random_state.randint(len(BACKGROUND_COLORS), size=num)
        colors[:, 1] = random_state.randint(len(OBJECT_COLORS), size=num)
        return np.concatenate([colors, self.base.sample_factors(num, random_state)], axis=-1)

    def sample_observations_from_factors(self, factors, random_state):
        factors = np.asarray(factors, dtype=np.int64)
        mask = self.base.sample_observations_from_factors(factors[:, 2:], random_state)[..., 0]
        background = BACKGROUND_COLORS[factors[:, 0]].astype(np.float32)
        colour = OBJECT_COLORS[factors[:, 1]].astype(np.float32)
        sprite = mask == 1
        return _rgb(len(factors), lambda c: np.where(sprite, colour[:, c, None, None], background[:, c, None, None]))
