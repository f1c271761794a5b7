"""The cheap baselines on images the tests draw: what oversampling, SMOTE and augmentation
make. (test_leakage.py checks what they learn from.)"""
import numpy as np
import pytest

from synthlib import baselines
from synthlib.config import AugmentationConfig

STILL = dict(rotation=0.0, zoom=0.0, translation=0.0, brightness=0.0)


def bar(vertical=True, flag=True, size=28):
    """A thick bar through the centre, with a flag to one side so that a mirror changes it."""
    x = np.zeros((size, size, 1), "uint8")
    if vertical:
        x[4:24, 12:15] = 255
    else:
        x[12:15, 4:24] = 255
    if flag:
        x[4:8, 15:18] = 255
    return x


def orientation(image):
    """Angle of an image's main axis from the vertical, in degrees (0-90), by its moments."""
    w = image[..., 0].astype(float)
    rows, cols = np.indices(w.shape)
    m = w.sum()
    r, c = (rows * w).sum() / m, (cols * w).sum() / m
    mu20, mu02 = ((rows - r) ** 2 * w).sum(), ((cols - c) ** 2 * w).sum()
    mu11 = ((rows - r) * (cols - c) * w).sum()
    return abs(np.degrees(0.5 * np.arctan2(2 * mu11, mu20 - mu02)))


def test_oversampling_repeats_minority_images_until_the_classes_balance():
    x = np.arange(12, dtype="uint8").reshape(12, 1, 1, 1)
    y = np.array([0] * 9 + [1] * 3)
    xs, ys = baselines.random_oversample(x, y, seed=0)
    assert np.sum(ys == 0) == np.sum(ys == 1) == 9
    assert set(xs[ys == 1].ravel()) <= {9, 10, 11} and np.array_equal(xs[:12], x)


def test_smote_draws_between_minority_neighbours_rounded_to_pixels():
    """Two minority images, black and (255, 1): each new one is t * (255, 1), t in [0, 1],
    rounded; its second pixel says on which side of one half t fell."""
    x = np.zeros((22, 1, 2, 1), "uint8")
    x[-1, 0, :, 0] = (255, 1)
    x[:-2] = 100  # the majority, away from the line
    y = np.array([0] * 20 + [1] * 2)
    xs, ys = baselines.smote(x, y, seed=0)
    new = xs[22:].reshape(-1, 2).astype(int)
    assert len(new) == 18 and (ys[22:] == 1).all()
    t = new[:, 0] / 255
    clear = np.abs(t - 0.5) > 0.01
    assert clear.any() and (t[clear] > 0.5).any()
    assert np.array_equal(new[clear, 1], np.rint(t[clear]).astype(int))


def test_smote_with_too_few_minority_images_to_interpolate():
    x = np.arange(8, dtype="uint8").reshape(8, 1, 1, 1)
    one = np.array([0] * 7 + [1])
    xs, ys = baselines.smote(x, one, seed=0)  # one image: repeated, as oversampling does
    assert np.sum(ys == 1) == 7 and (xs[ys == 1] == 7).all()
    three = np.array([0] * 5 + [1] * 3)  # three: two neighbours each
    assert np.sum(baselines.smote(x, three, seed=0)[1] == 1) == 5


def test_augmentation_makes_as_many_as_asked_in_any_batch_size():
    out = baselines.augment(np.stack([bar()]), 0, AugmentationConfig(), seed=0)
    assert out.shape == (0, 28, 28, 1) and out.dtype == np.uint8
    assert len(baselines.augment(np.stack([bar()]), 7, AugmentationConfig(), 0,
                                 batch_size=3)) == 7


def test_still_settings_leave_the_images_as_they_are_and_no_mirror_unless_asked():
    source = np.stack([bar(), bar(False)])
    out = baselines.augment(source, 40, AugmentationConfig(**STILL), seed=0)
    assert all(any(np.array_equal(o, s) for s in source) for o in out)
    mirrored = baselines.augment(source, 40, AugmentationConfig(**STILL, horizontal_flip=True),
                                 seed=0)
    flipped = source[:, :, ::-1]
    assert any(any(np.array_equal(o, s) for s in flipped) for o in mirrored)


@pytest.mark.parametrize("setting", ["zoom", "translation"])
def test_zoom_and_translation_each_move_the_images(setting):
    source = np.stack([bar()])
    out = baselines.augment(source, 20, AugmentationConfig(**{**STILL, setting: 0.2}), seed=0)
    assert sum(not np.array_equal(o, source[0]) for o in out) > 10


def test_rotation_is_in_degrees_either_way():
    source = np.stack([bar(flag=False)])
    assert orientation(source[0]) == 0
    out = baselines.augment(source, 200, AugmentationConfig(**{**STILL, "rotation": 30.0}),
                            seed=0)
    angles = np.array([orientation(o) for o in out])
    assert 20 < angles.max() < 33  # up to 30 degrees (and pixels' rounding), and it turns


def test_augmented_copies_stay_as_sharp_as_their_sources():
    """Every pixel of a copy is one of its source's (or the black fill): a resampling that
    interpolated would add grey edges to every copy, a cue that tells them from real images."""
    source = np.stack([bar()]) // 255 * 200  # one grey level, 200, on black
    moved = AugmentationConfig(**{**STILL, "rotation": 20.0, "zoom": 0.2, "translation": 0.1})
    out = baselines.augment(source, 50, moved, seed=0)
    assert sum(not np.array_equal(o, source[0]) for o in out) > 40
    assert set(np.unique(out)) <= {0, 200}
