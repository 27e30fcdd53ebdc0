"""dSprites rendered on demand from the factors: the same factor grid as the published file, no download.

Sprites are filled binary shapes (square, ellipse, heart) rotated about their centre; the centre moves over
[16, 48] px in both directions so that every sprite, at every scale and rotation, stays fully visible.
A pixel is on when its centre lies inside the shape, so rendering is exact, deterministic and vectorised.

The shapes' sizes (constants below) stay close to the published sprites and move only as far as one property
of the published file needs: each of the 6 scales gives a different sprite at every position and orientation,
so the scale is always recoverable from the image. Neighbouring scales differ by less than a pixel at the
sprite's edge, so whether a step crosses a row of pixel centres depends on the sub-pixel position of the
centre; the square's half side is chosen so that it does at all 31 sub-pixel offsets the position grid makes.
"""
import numpy as np

from dlib_torch.data.ground_truth import dsprites_base

CANVAS = 64
WINDOW = 32            # every sprite fits in a WINDOW x WINDOW patch around its centre
CENTRE_MIN = 16.0      # sprite centre in pixels for position value 0 ...
CENTRE_SPAN = 32.0     # ... and CENTRE_MIN + CENTRE_SPAN for position value 1
MAX_RADIUS_PX = 14.0   # radius of the circle that holds a sprite of scale 1

# Shape outlines live in the unit disc; these constants size each shape inside it.
# The square's half side at scale 1 is 0.625 * 14 = 8.75 px (17.5 px wide), so its six half sides are
# 4.375, 5.25, 6.125, 7.0, 7.875 and 8.75 px. With 0.62 (17.4 px) the half sides 6.08 and 6.94 px of scales
# 0.7 and 0.8 fell between the same pixel centres whenever the centre lay within 0.06 px of a pixel centre,
# and both rendered the same 13x13 square (tests/data/ground_truth/test_dsprites_procedural.py checks the grid).
SQUARE_HALF_SIDE = 0.625
ELLIPSE_SEMI_AXES = (1.0, 0.5)
HEART_ZOOM = 1.32      # the implicit heart's point lies 1.29 from its centroid; zoom it into the unit disc
HEART_SHIFT = 0.2935   # the implicit heart's centroid, moved to the origin so it rotates about its centre


def _inside_square(u, v):
    return np.maximum(np.abs(u), np.abs(v)) <= SQUARE_HALF_SIDE


def _inside_ellipse(u, v):
    a, b = ELLIPSE_SEMI_AXES
    return (u / a) ** 2 + (v / b) ** 2 <= 1.0


def _inside_heart(u, v):
    x = u * HEART_ZOOM
    y = v * HEART_ZOOM + HEART_SHIFT
    r = x * x + y * y - 1.0
    return r * r * r - x * x * y * y * y <= 0.0


_INSIDE = [_inside_square, _inside_ellipse, _inside_heart]


def render_sprites(shape, scale, orientation, pos_x, pos_y):
    """Renders binary sprites [B, 64, 64] float32 from factor *values* (shape index 0..2, scale, radians, [0, 1]^2).

    posX moves the sprite to the right and posY moves it down, as in the published file.
    """
    patch, ox, oy = sprite_patches(shape, scale, orientation, pos_x, pos_y)
    n = patch.shape[0]
    canvas = np.zeros((n, CANVAS, CANVAS), dtype=np.float32)
    rows = oy[:, None, None] + np.arange(WINDOW)[None, :, None]
    cols = ox[:, None, None] + np.arange(WINDOW)[None, None, :]
    canvas[np.arange(n)[:, None, None], rows, cols] = patch
    return canvas


def sprite_patches(shape, scale, orientation, pos_x, pos_y):
    """The sprites as bool WINDOW x WINDOW patches [B, W, W] and the canvas column/row of each patch's origin.

    The canvas is the patch moved to (ox, oy); the origin depends on the position alone.
    """
    shape = np.asarray(shape, dtype=np.int64)
    n = shape.shape[0]
    cx = CENTRE_MIN + CENTRE_SPAN * np.asarray(pos_x, dtype=np.float64)
    cy = CENTRE_MIN + CENTRE_SPAN * np.asarray(pos_y, dtype=np.float64)
    ox = np.floor(cx).astype(np.int64) - WINDOW // 2   # window origin, in [0, CANVAS - WINDOW]
    oy = np.floor(cy).astype(np.int64) - WINDOW // 2
    offsets = np.arange(WINDOW, dtype=np.float64) + 0.5
    radius = MAX_RADIUS_PX * np.asarray(scale, dtype=np.float64)
    dx = ((ox[:, None] + offsets[None, :]) - cx[:, None]) / radius[:, None]      # [B, W] along x
    dy_up = (cy[:, None] - (oy[:, None] + offsets[None, :])) / radius[:, None]   # [B, W] along y, up positive
    cos = np.cos(orientation)[:, None, None]
    sin = np.sin(orientation)[:, None, None]
    # Sprite-frame coordinates: rotate the pixel offsets by -theta (the sprite turns counter-clockwise).
    u = (cos * dx[:, None, :] + sin * dy_up[:, :, None]).astype(np.float32)   # [B, W(rows), W(cols)]
    v = (-sin * dx[:, None, :] + cos * dy_up[:, :, None]).astype(np.float32)
    patch = np.zeros((n, WINDOW, WINDOW), dtype=bool)
    for s, inside in enumerate(_INSIDE):
        sel = np.flatnonzero(shape == s)
        if sel.size:
            patch[sel] = inside(u[sel], v[sel])
    return patch, ox, oy


class ProceduralDSprites(dsprites_base.DSpritesBase):
    """dSprites with procedurally rendered observations (`dsprites_procedural`).

    Factors (default): 0 shape (3), 1 scale (6), 2 orientation (40), 3 posX (32), 4 posY (32), indexed
    exactly like the published file, so held-out splits and metrics carry over unchanged.
    """

    def images_from_all_factors(self, all_factors):
        all_factors = np.asarray(all_factors, dtype=np.int64)
        return render_sprites(
            shape=all_factors[:, 1],
            scale=dsprites_base.SCALE_VALUES[all_factors[:, 2]],
            orientation=dsprites_base.ORIENTATION_VALUES[all_factors[:, 3]],
            pos_x=dsprites_base.POSITION_VALUES[all_factors[:, 4]],
            pos_y=dsprites_base.POSITION_VALUES[all_factors[:, 5]])
