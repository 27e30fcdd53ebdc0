"""TensorFlow variables of disentanglement_lib's encoders and decoders -> our PyTorch modules.

The reference builds its networks with `tf.layers` inside the variable scopes `encoder` and `decoder`
(`methods/shared/architectures.py`), so a variable is `<scope>/<layer>/{kernel,bias}`; layers without a
`name=` get TF's default names (`dense`, `dense_1`, `conv2d_transpose_2`, ...). Kernels are stored in TF's
layouts and transposed here: dense [in, out] -> [out, in]; conv2d [kh, kw, in, out] and conv2d_transpose
[kh, kw, out, in] -> [out, in, kh, kw] and [in, out, kh, kw] (both one permutation, (3, 2, 0, 1)).
Every other variable (FactorVAE's `discriminator/*`, optimizer slots, `global_step`) is ignored.
"""
import numpy as np
import torch

from dlib_torch.methods.shared import architectures
from dlib_torch.utils.errors import UserError

IMAGE_SIZE = 64  # every architecture of the reference assumes 64x64 images
MAX_LATENTS = 4096  # far above any published model (10); a larger value in an archive is refused, not built
CHANNELS = (1, 3)  # the reference's data sets: grey or RGB

# gin name -> (our class, [(our layer, TF layer, kind)]), in the order of the reference's code.
ENCODERS = {
    "conv_encoder": (architectures.ConvEncoder, [
        ("e1", "e1", "conv"), ("e2", "e2", "conv"), ("e3", "e3", "conv"), ("e4", "e4", "conv"),
        ("e5", "e5", "dense"), ("means", "means", "dense"), ("log_var", "log_var", "dense")]),
    "fc_encoder": (architectures.FCEncoder, [
        ("e1", "e1", "dense"), ("e2", "e2", "dense"), ("means", "dense", "dense"), ("log_var", "dense_1", "dense")]),
    "test_encoder": (architectures.TestEncoder, [("e1", "e1", "dense"), ("e2", "e2", "dense")]),
}
DECODERS = {
    "deconv_decoder": (architectures.DeconvDecoder, [
        ("d1", "dense", "dense"), ("d2", "dense_1", "dense"), ("d3", "conv2d_transpose", "deconv"),
        ("d4", "conv2d_transpose_1", "deconv"), ("d5", "conv2d_transpose_2", "deconv"),
        ("d6", "conv2d_transpose_3", "deconv")]),
    "fc_decoder": (architectures.FCDecoder, [
        ("d1", "dense", "dense"), ("d2", "dense_1", "dense"), ("d3", "dense_2", "dense"), ("d4", "dense_3", "dense")]),
    "test_decoder": (architectures.TestDecoder, [("d1", "d1", "dense")]),
}


class ModelSpec:
    """What train.gin says about the networks: architecture names, latent size, decoder activation."""

    def __init__(self, encoder_fn, decoder_fn, num_latent, activation="logits"):
        self.encoder_fn, self.decoder_fn = encoder_fn, decoder_fn
        self.num_latent, self.activation = num_latent, activation


def model_spec(train_config, source):
    """The ModelSpec of a train.gin flattened by `results.gin_dict`; `source` names the file in errors."""
    def value(key, default=None):
        if key not in train_config:
            if default is None:
                raise UserError("{} binds no {}; cannot tell which network to import".format(source, key))
            return default
        return train_config[key].strip().strip("'\"")

    encoder_fn, decoder_fn = value("encoder.encoder_fn").lstrip("@"), value("decoder.decoder_fn").lstrip("@")
    if encoder_fn.endswith("()"):
        encoder_fn = encoder_fn[:-2]
    if decoder_fn.endswith("()"):
        decoder_fn = decoder_fn[:-2]
    if encoder_fn not in ENCODERS:
        raise UserError("{}: encoder.encoder_fn = @{} cannot be imported; supported: {}".format(
            source, encoder_fn, ", ".join("@" + name for name in ENCODERS)))
    if decoder_fn not in DECODERS:
        raise UserError("{}: decoder.decoder_fn = @{} cannot be imported; supported: {}".format(
            source, decoder_fn, ", ".join("@" + name for name in DECODERS)))
    num_latent_key = "encoder.num_latent" if "encoder.num_latent" in train_config else "test_encoder.num_latent"
    try:
        num_latent = int(value(num_latent_key))
    except ValueError:
        raise UserError("{}: {} = {} is not an integer".format(source, num_latent_key,
                                                               train_config[num_latent_key])) from None
    if not 1 <= num_latent <= MAX_LATENTS:
        raise UserError("{}: {} = {} is not a latent size this importer builds (1 to {}); the archive is damaged "
                        "or not a disentanglement_lib model".format(source, num_latent_key, num_latent, MAX_LATENTS))
    return ModelSpec(encoder_fn, decoder_fn, num_latent, value("reconstruction_loss.activation", "logits"))


def convert(bundle, spec, source):
    """(encoder, decoder, observation_shape): our modules holding the bundle's `encoder/*` and `decoder/*`.

    The number of image channels is read from the first encoder layer's kernel. A missing variable, or one
    whose shape does not fit the architecture, raises a one-line UserError naming it.
    """
    bundle = _Scoped(bundle, _scope_prefix(bundle))
    channels = _channels(bundle, spec, source)
    observation_shape = [IMAGE_SIZE, IMAGE_SIZE, channels]
    encoder_class, encoder_layers = ENCODERS[spec.encoder_fn]
    decoder_class, decoder_layers = DECODERS[spec.decoder_fn]
    torch.manual_seed(0)  # the layers are built (and initialised) before every weight is replaced
    encoder = encoder_class(observation_shape, spec.num_latent)
    decoder = decoder_class(spec.num_latent, observation_shape)
    _load(encoder, "encoder", encoder_layers, bundle, source, spec.encoder_fn)
    _load(decoder, "decoder", decoder_layers, bundle, source, spec.decoder_fn)
    encoder.num_latent = spec.num_latent
    return encoder.eval(), decoder.eval(), observation_shape


def _scope_prefix(bundle):
    """'' when the variables are named as the reference creates them, else the one outer scope they sit in
    (e.g. 'module/' for a TF-Hub module instantiated inside another graph and saved from there)."""
    first = "encoder/e1/kernel"
    if first in bundle:
        return ""
    prefixes = {name[:-len(first)] for name in bundle.names() if name.endswith("/" + first)}
    return prefixes.pop() if len(prefixes) == 1 else ""


class _Scoped:
    """A bundle's variables under an outer scope, by their names inside it."""

    def __init__(self, bundle, prefix):
        self.bundle, self.prefix = bundle, prefix

    def names(self):
        return [name[len(self.prefix):] for name in self.bundle.names() if name.startswith(self.prefix)]

    def __contains__(self, name):
        return self.prefix + name in self.bundle

    def shape(self, name):
        return self.bundle.shape(self.prefix + name)

    def read(self, name):
        return self.bundle.read(self.prefix + name)


def _channels(bundle, spec, source):
    """The image channels: the conv encoder's input channels, or the dense encoder's inputs / 64**2."""
    first = "encoder/e1/kernel"
    shape = _variable_shape(bundle, first, source)
    if spec.encoder_fn == "conv_encoder":
        if len(shape) != 4:
            raise UserError("{}: variable {} has shape {}, not the [4, 4, channels, 32] of @conv_encoder".format(
                source, first, list(shape)))
        channels = int(shape[2])
    else:
        if len(shape) != 2 or shape[0] % (IMAGE_SIZE * IMAGE_SIZE):
            raise UserError("{}: variable {} has shape {}, not [64 * 64 * channels, units] as @{} needs".format(
                source, first, list(shape), spec.encoder_fn))
        channels = int(shape[0]) // (IMAGE_SIZE * IMAGE_SIZE)
    if channels not in CHANNELS:
        raise UserError("{}: variable {} declares {} image channels; the reference's images have {}".format(
            source, first, channels, " or ".join(map(str, CHANNELS))))
    return channels


def _variable_shape(bundle, name, source):
    if name not in bundle:
        raise UserError("{}: variable {} is missing (the variables hold {} tensors, e.g. {}); the archive does "
                        "not match its train.gin".format(source, name, len(bundle.names()),
                                                         ", ".join(bundle.names()[:3]) or "none"))
    return bundle.shape(name)


def _load(module, scope, layers, bundle, source, architecture):
    state = {}
    expected = module.state_dict()
    for ours, theirs, kind in layers:
        for suffix in ("kernel", "bias"):
            name = "{}/{}/{}".format(scope, theirs, suffix)
            key = "{}.{}".format(ours, "weight" if suffix == "kernel" else "bias")
            declared = list(_variable_shape(bundle, name, source))
            wanted = _tf_layout(expected[key].shape, kind, suffix)
            if declared != wanted:
                raise UserError("{}: variable {} has shape {}, but @{} needs {} (TF layout); the archive does not "
                                "match its train.gin".format(source, name, declared, architecture, wanted))
            value = np.asarray(bundle.read(name), dtype=np.float32)
            if suffix == "kernel":
                value = value.T if kind == "dense" and value.ndim == 2 else \
                    value.transpose(3, 2, 0, 1) if value.ndim == 4 else value
            state[key] = torch.from_numpy(np.ascontiguousarray(value))
    module.load_state_dict(state, strict=True)


def _tf_layout(torch_shape, kind, suffix):
    shape = list(torch_shape)
    if suffix == "bias":
        return shape
    if kind == "dense":
        return shape[::-1]
    return [shape[2], shape[3], shape[1], shape[0]]
