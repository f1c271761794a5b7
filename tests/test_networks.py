import numpy as np
import pytest

from synthlib import networks


@pytest.mark.parametrize("architecture", sorted(networks.GAN_PRESETS))
@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)])
def test_gan_networks_shapes(architecture, shape):
    g, d = networks.build_gan_networks(architecture, 16, shape)
    images = np.asarray(g(np.zeros((2, 16), "float32")))
    assert images.shape == (2,) + shape
    assert images.min() >= 0 and images.max() <= 1
    assert np.asarray(d(images)).shape == (2, 1)


@pytest.mark.parametrize("architecture", sorted(networks.GAN_PRESETS))
def test_conditional_discriminator_projects_the_label_and_classifies(architecture):
    """Projection discriminator with an auxiliary classifier: the realness logit depends on
    the label, the class logits do not (the body sees the image alone)."""
    g, d = networks.build_gan_networks(architecture, 16, (28, 28, 1), n_classes=10)
    images = np.random.default_rng(0).random((3, 28, 28, 1)).astype("float32")
    logit3, class3 = (np.asarray(t) for t in d([images, np.full(3, 3, "int32")]))
    logit7, class7 = (np.asarray(t) for t in d([images, np.full(3, 7, "int32")]))
    assert logit3.shape == (3, 1) and class3.shape == (3, 10)
    assert not np.allclose(logit3, logit7) and np.allclose(class3, class7)


@pytest.mark.parametrize("n_classes", [0, 10])
def test_rotation_heads_add_three_logits_on_the_same_features(n_classes):
    import keras
    keras.utils.set_random_seed(0)
    _, plain = networks.build_gan_networks("light_dcgan", 16, (28, 28, 1), n_classes)
    keras.utils.set_random_seed(0)
    _, turned = networks.build_gan_networks("light_dcgan", 16, (28, 28, 1), n_classes,
                                            rotation_heads=True)
    images = np.random.default_rng(0).random((3, 28, 28, 1)).astype("float32")
    inputs = [images, np.full(3, 3, "int32")] if n_classes else images
    before, after = plain(inputs), turned(inputs)
    before = before if n_classes else [before]
    assert len(after) == len(before) + 1 and np.asarray(after[-1]).shape == (3, 3)
    # the discriminator's own outputs are untouched, its weights built as without the heads
    for a, b in zip(before, after):
        assert np.array_equal(np.asarray(a), np.asarray(b))
    assert networks.realness_layer(turned) is not None


def test_bfloat16_networks_compute_in_bfloat16_and_answer_in_float32():
    import keras
    g, d = networks.build_gan_networks("light_dcgan", 16, (28, 28, 1), precision="mixed_bfloat16")
    assert keras.config.dtype_policy().name == "float32"  # the global policy is restored
    assert {layer.compute_dtype for layer in g.layers if layer.weights} >= {"bfloat16"}
    assert all(w.dtype == "float32" for w in g.weights)
    images = g(np.zeros((2, 16), "float32"))
    assert images.dtype == "float32" and d(images).dtype == "float32"


@pytest.mark.parametrize("shape", [(16, 12), (16, 5, 5, 3)])
@pytest.mark.parametrize("precision", ["float32", "mixed_bfloat16"])
def test_fused_batch_normalization_is_keras_batch_normalization(shape, precision):
    """The generators' fused layer computes what Keras's does in training (outputs, every
    gradient, the moving statistics) and in inference."""
    import keras
    import tensorflow as tf
    with networks.dtype_policy(precision):
        ours, theirs = networks.BatchNormalization(), keras.layers.BatchNormalization()
    for layer in (ours, theirs):
        layer.build(shape)
    theirs.gamma.assign(np.linspace(0.5, 2.0, shape[-1]))
    ours.gamma.assign(theirs.gamma)
    x = tf.constant(np.random.default_rng(0).normal(2.0, 3.0, shape), "float32")
    tol = 1e-5 if precision == "float32" else 2e-2  # bfloat16 keeps about 3 digits

    def close(a, b):
        a, b = (np.asarray(tf.cast(t, "float32")) for t in (a, b))
        np.testing.assert_allclose(a, b, atol=tol * max(1.0, np.abs(b).max()))

    for _ in range(3):  # the moving statistics follow three batches
        grads = []
        for layer in (ours, theirs):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = layer(x, training=True)
                loss = tf.reduce_sum(tf.cast(y, "float32") ** 2 * x)
            grads.append(tape.gradient(loss, [x, layer.gamma, layer.beta]))
            assert y.dtype == layer.compute_dtype
        for a, b in zip(*grads):
            close(a, b)
    close(ours(x, training=True), theirs(x, training=True))
    close(ours.moving_mean, theirs.moving_mean)
    close(ours.moving_variance, theirs.moving_variance)
    close(ours(x, training=False), theirs(x, training=False))


def test_generators_keep_their_fused_layers_through_a_save(tmp_path):
    import keras
    g, _ = networks.build_gan_networks("light_dcgan", 8, (28, 28, 1))
    assert any(type(layer) is networks.BatchNormalization for layer in g.layers)
    g.save(tmp_path / "g.keras")
    loaded = keras.models.load_model(tmp_path / "g.keras", compile=False)
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in g.layers]
    z = np.random.default_rng(0).uniform(-1, 1, (4, 8)).astype("float32")
    np.testing.assert_allclose(np.asarray(loaded(z, training=True)),
                               np.asarray(g(z, training=True)), rtol=1e-6, atol=1e-6)


def test_seed_dcgan_matches_the_seed_notebook():
    g, d = networks.build_gan_networks("seed_dcgan", 100, (28, 28, 1))
    convt = [l for l in g.layers if l.__class__.__name__ == "Conv2DTranspose"]
    assert [(l.filters, l.strides[0], l.kernel_size[0]) for l in convt] == [
        (128, 2, 5), (64, 2, 5), (32, 1, 5), (1, 1, 5)]
    conv = [l for l in d.layers if l.__class__.__name__ == "Conv2D"]
    assert [(l.filters, l.strides[0]) for l in conv] == [(32, 2), (64, 2), (128, 2), (256, 1)]


@pytest.mark.parametrize("name", sorted(networks.CLASSIFIERS))
def test_classifier_shapes(name):
    m = networks.build_classifier(name, (28, 28, 1), 10)
    out = np.asarray(m(np.zeros((3, 28, 28, 1), "float32")))
    assert out.shape == (3, 10)
    np.testing.assert_allclose(out.sum(1), 1, rtol=1e-5)


def test_seed_mlp_keeps_its_bottleneck():
    m = networks.seed_mlp((28, 28, 1), 2)
    assert [l.units for l in m.layers if hasattr(l, "units")] == [16, 1, 2]


def test_multiply_adds_counted_from_layer_shapes():
    from synthlib.tools import bench
    g, d = networks.build_gan_networks("seed_dcgan", 100, (28, 28, 1))
    assert bench.macs_per_image(g) == 627_200 + 20_070_400 + 40_140_800 + 40_140_800 + 627_200
    assert abs(bench.macs_per_image(d) - 19.1e6) < 0.1e6
    assert abs(bench.step_flops(g, d, 64) - 74e9) < 1e9  # ~74 GFLOP per step at batch 64
    # the default's step costs about a twentieth of it (README, networks.py)
    light = bench.step_flops(*networks.build_gan_networks("light_dcgan", 100, (28, 28, 1)), 64)
    assert 15 < bench.step_flops(g, d, 64) / light < 25


def test_the_reference_loop_trains_both_networks():
    """The seed's loop under Keras 3: the discriminator must really learn in its own step."""
    from synthlib.tools import bench
    images = np.random.default_rng(0).integers(0, 255, (16, 28, 28, 1), dtype=np.uint8)
    step, g, d = bench.seed_loop_step(images, batch=4)
    d0 = [w.numpy().copy() for w in d.weights]
    g0 = [w.numpy().copy() for w in g.weights]
    step()
    assert any(not np.allclose(a, b.numpy()) for a, b in zip(d0, d.weights))
    assert any(not np.allclose(a, b.numpy()) for a, b in zip(g0, g.weights))
