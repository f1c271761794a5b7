import numpy as np
import pytest

from synthlib import config, networks, registry
from synthlib.studies import rebalance_text


@pytest.mark.parametrize("architecture", sorted(networks.GAN_PRESETS))
@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)])
def test_gan_networks_shapes(architecture, shape):
    g, d = networks.build_gan_networks(architecture, 16, shape)
    images = np.asarray(g(np.zeros((2, 16), "float32")))
    assert images.shape == (2,) + shape
    assert images.min() >= 0 and images.max() <= 1
    assert np.asarray(d(images)).shape == (2, 1)


@pytest.mark.parametrize("architecture", sorted(networks.GAN_PRESETS))
@pytest.mark.parametrize("precision", ["float32", "mixed_bfloat16"])
def test_a_generator_alone_is_the_gan_s_generator(architecture, precision):
    """A VAE's decoder (build_generator) is the network the GAN trains, layer for layer."""
    import keras

    alone = networks.build_generator(architecture, 16, (28, 28, 1), precision=precision)
    g, _ = networks.build_gan_networks(architecture, 16, (28, 28, 1), precision=precision)
    assert [(type(a).__name__, a.output.shape, a.dtype_policy.name) for a in alone.layers] == \
        [(type(b).__name__, b.output.shape, b.dtype_policy.name) for b in g.layers]
    assert alone.count_params() == g.count_params()
    assert keras.config.dtype_policy().name == "float32"  # restored


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
    # a conditional discriminator's realness and class logits alike
    _, d = networks.build_gan_networks("light_dcgan", 16, (28, 28, 1), n_classes=10,
                                       precision="mixed_bfloat16")
    assert [t.dtype for t in d([np.asarray(images), np.zeros(2, "int32")])] == ["float32"] * 2


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


def test_a_frozen_fused_batch_normalization_normalises_as_keras_does():
    """Frozen (trainable False), Keras's layer uses its moving statistics even in training
    and leaves them be; the fused kernel must not take over there."""
    import keras
    ours, theirs = networks.BatchNormalization(), keras.layers.BatchNormalization()
    x = np.random.default_rng(0).normal(2.0, 3.0, (16, 5, 5, 3)).astype("float32")
    for layer in (ours, theirs):
        layer.build(x.shape)
        layer.trainable = False
    np.testing.assert_allclose(np.asarray(ours(x, training=True)),
                               np.asarray(theirs(x, training=True)), rtol=1e-6, atol=1e-6)
    assert np.array_equal(np.asarray(ours.moving_mean), np.zeros(3))


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


PLAN_KEYS = ("units", "use_bias", "activation", "filters", "kernel_size", "strides",
             "padding", "negative_slope", "rate", "target_shape", "pool_size")


def layer_plan(model):
    """Each layer's kind and the settings that decide what it computes, names and dtypes aside."""
    return [(type(layer).__name__, {k: v for k, v in layer.get_config().items() if k in PLAN_KEYS})
            for layer in model.layers if type(layer).__name__ != "InputLayer"]


def test_seed_dcgan_matches_the_seed_notebook():
    """Layer for layer as seed 000 builds them (its final sigmoid is the loss's from_logits)."""
    g, d = networks.build_gan_networks("seed_dcgan", 100, (28, 28, 1))

    def convt(filters, stride):
        return ("Conv2DTranspose", {"filters": filters, "kernel_size": (5, 5),
                                    "strides": (stride, stride), "padding": "same",
                                    "activation": "linear", "use_bias": True})

    relu = [("BatchNormalization", {}), ("Activation", {"activation": "relu"})]
    assert layer_plan(g) == [
        ("Dense", {"units": 7 * 7 * 128, "activation": "linear", "use_bias": True}),
        ("Reshape", {"target_shape": (7, 7, 128)}),
        *relu, convt(128, 2), *relu, convt(64, 2), *relu, convt(32, 1), *relu, convt(1, 1),
        ("Activation", {"activation": "sigmoid"})]
    conv = [[("LeakyReLU", {"negative_slope": 0.2}),
             ("Conv2D", {"filters": f, "kernel_size": (5, 5), "strides": (s, s),
                         "padding": "same", "activation": "linear", "use_bias": True})]
            for f, s in ((32, 2), (64, 2), (128, 2), (256, 1))]
    assert layer_plan(d) == [*sum(conv, []), ("Flatten", {}),
                             ("Dense", {"units": 1, "activation": "linear", "use_bias": True})]


def test_the_oracle_s_network_is_the_one_rescore_writes_out_on_its_own():
    """`make rescore` re-checks the report with keras.io's convnet written out independently;
    synthlib's small CNN must be that same network for the comparison to mean anything."""
    from synthlib.tools import rescore
    assert layer_plan(networks.small_cnn((28, 28, 1), 10)) == layer_plan(
        rescore.convnet((28, 28, 1), 10))


@pytest.mark.parametrize("architecture", sorted(networks.GAN_PRESETS))
@pytest.mark.parametrize("shape", [(28, 32, 1), (30, 30, 1)])
def test_gan_networks_refuse_images_they_cannot_draw(architecture, shape):
    with pytest.raises(ValueError, match="square images with a side divisible by 4"):
        networks.build_gan_networks(architecture, 16, shape)


@pytest.mark.parametrize("name", sorted(networks.CLASSIFIERS))
def test_classifier_shapes(name):
    m = networks.build_classifier(name, (28, 28, 1), 10)
    out = np.asarray(m(np.zeros((3, 28, 28, 1), "float32")))
    assert out.shape == (3, 10)
    np.testing.assert_allclose(out.sum(1), 1, rtol=1e-5)


def test_seed_mlp_keeps_its_bottleneck():
    """Seed 000's evaluation model as written: sigmoid 16, sigmoid 1, softmax."""
    m = networks.seed_mlp((28, 28, 1), 2)
    assert [(l.units, l.get_config()["activation"]) for l in m.layers if hasattr(l, "units")] \
        == [(16, "sigmoid"), (1, "sigmoid"), (2, "softmax")]


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


def test_the_registry_names_the_networks_there_are():
    """registry.py names them without importing Keras (make check stays fast): a builder added
    to one list and not the other would pass make check and fail in a stage's first cell."""
    assert set(networks.GAN_PRESETS) == set(registry.GAN_ARCHITECTURES)
    assert set(networks.CLASSIFIERS) == set(registry.CLASSIFIERS)
    assert set(config.EvaluateConfig().steps) == set(registry.CLASSIFIERS)  # a budget for each
    # and the sentence rebalance's pages say about each
    assert set(rebalance_text.CLASSIFIER_TEXT) == set(registry.CLASSIFIERS)
