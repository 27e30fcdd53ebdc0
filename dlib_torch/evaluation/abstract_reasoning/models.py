"""Models for abstract reasoning (the reference's models.py): an embedder of the panels, then a Wild Relation
Network (Barrett et al., 2018, https://arxiv.org/abs/1807.04225) that scores each of the 6 answers.

Gin names as the reference: `TwoStageModel`, `BaselineCNNEmbedder`, `HubEmbedding` (here the TorchScript
representation that dtl_postprocess exports), `OptimizedWildRelNet`, `activation`, `kernel_initializer`.
Panels are NHWC images in [0, 1] at the boundary, as everywhere in dlib_torch.
"""
import math

import gin
import torch
from torch import nn
import torch.nn.functional as F

from dlib_torch.evaluation.abstract_reasoning import relational_layers
from dlib_torch.training import optimizers
from dlib_torch.utils import exported_modules
from dlib_torch.utils import validation
from dlib_torch.utils.errors import ConfigError
from dlib_torch.utils.errors import UserError

FACTOR_EMBEDDINGS = ("values", "onehot")
TRUNCATED_NORMAL_STDDEV_FACTOR = 0.87962566103423978  # std of a unit normal truncated at +-2 (Keras' correction)


@gin.configurable("activation")
def get_activation(activation="relu"):
    """The hidden layers' activation: 'relu' (the reference's default) or 'lrelu' (leaky, slope 0.2)."""
    if activation == "lrelu":
        return lambda x: F.leaky_relu(x, 0.2)
    if activation == "relu":
        return F.relu
    if callable(activation):
        return activation
    raise ConfigError("activation.activation = {!r} is not allowed; it must be 'relu' or 'lrelu'".format(activation))


@gin.configurable("kernel_initializer")
def get_kernel_initializer(kernel_initializer="lecun_normal"):
    """Name of the Keras initialiser of every kernel (biases start at zero, as Keras')."""
    return validation.check_choice("kernel_initializer.kernel_initializer", kernel_initializer,
                                   ("lecun_normal", "lecun_uniform", "glorot_normal", "glorot_uniform", "he_normal",
                                    "he_uniform"))


def initialize(layer, initializer):
    """Keras' variance-scaling initialisers on a Linear or Conv2d layer (fan sizes as Keras counts them)."""
    weight = layer.weight
    receptive_field = weight[0][0].numel()
    fan_in, fan_out = weight.shape[1] * receptive_field, weight.shape[0] * receptive_field
    scale, fan = {"lecun": (1., fan_in), "glorot": (1., (fan_in + fan_out) / 2.), "he": (2., fan_in)}[
        initializer.split("_")[0]]
    with torch.no_grad():
        if initializer.endswith("uniform"):
            limit = math.sqrt(3. * scale / fan)
            weight.uniform_(-limit, limit)
        else:
            std = math.sqrt(scale / fan) / TRUNCATED_NORMAL_STDDEV_FACTOR
            nn.init.trunc_normal_(weight, std=std, a=-2 * std, b=2 * std)
        if layer.bias is not None:
            layer.bias.zero_()
    return layer


def _linear(in_features, out_features):
    return initialize(nn.Linear(in_features, out_features), get_kernel_initializer())


@gin.configurable
class TwoStageModel:
    """Embeds every panel, then reasons over the embeddings; trained with Adam on softmax cross-entropy."""

    def __init__(self, embedding_model_class=gin.REQUIRED, reasoning_model_class=gin.REQUIRED, optimizer_fn=None):
        """
        Args:
          embedding_model_class: 'values' or 'onehot' (the true factors, as baselines), or an embedder class such
            as `@HubEmbedding` or `@BaselineCNNEmbedder`.
          reasoning_model_class: e.g. `@OptimizedWildRelNet`.
          optimizer_fn: e.g. `@AdamOptimizer`. None is TF's default Adam (learning rate 0.001, betas 0.9 and 0.999,
            epsilon 1e-8), unconfigured, as the reference's fallback: its example gin binds AdamOptimizer's
            parameters without binding this, so they take effect only with `optimizer_fn = @AdamOptimizer`.
        """
        if isinstance(embedding_model_class, str):
            validation.check_choice("TwoStageModel.embedding_model_class", embedding_model_class, FACTOR_EMBEDDINGS)
        elif not callable(embedding_model_class):
            raise ConfigError("TwoStageModel.embedding_model_class = {!r} is not allowed; it must be 'values', "
                              "'onehot' or an embedder such as @HubEmbedding".format(embedding_model_class))
        if not callable(reasoning_model_class):
            raise ConfigError("TwoStageModel.reasoning_model_class = {!r} is not allowed; it must be a reasoning "
                              "model such as @OptimizedWildRelNet".format(reasoning_model_class))
        self.embedding_model_class = embedding_model_class
        self.reasoning_model_class = reasoning_model_class
        self.optimizer_fn = optimizer_fn

    @property
    def needs_images(self):
        """False for the factor baselines, which never look at the panels' images."""
        return not isinstance(self.embedding_model_class, str)

    def build(self, num_factor_values, observation_shape):
        """The network (an nn.Module) for panels of `observation_shape` and factors of `num_factor_values`."""
        if self.needs_images:
            embedder = self.embedding_model_class(observation_shape=observation_shape)
            embedding_dim = embedder.embedding_dim
        else:
            embedder = FactorEmbedder(self.embedding_model_class, num_factor_values)
            embedding_dim = embedder.embedding_dim
        return ReasoningNetwork(embedder, self.reasoning_model_class(embedding_dim=embedding_dim))

    def make_optimizer(self, network):
        """The optimizer of the network's trainable parameters (a frozen representation stays frozen)."""
        parameters = [p for p in network.parameters() if p.requires_grad]
        if self.optimizer_fn is None:
            return optimizers.TFAdam(parameters)  # tf.train.AdamOptimizer() without gin, as the reference
        return self.optimizer_fn().create(parameters)


def loss_and_accuracy(logits, labels):
    """Mean softmax cross-entropy over the answers, and the fraction of PGMs whose argmax is the answer."""
    loss = F.cross_entropy(logits, labels)
    accuracy = (logits.argmax(dim=1) == labels).float().mean()
    return loss, accuracy


class ReasoningNetwork(nn.Module):
    """Embedder, then reasoning model: a batch (dict of tensors) -> logits [B, 6]."""

    def __init__(self, embedder, reasoning_model):
        super().__init__()
        self.embedder = embedder
        self.reasoning_model = reasoning_model

    def forward(self, batch):
        context, answers = self.embedder(batch)
        return self.reasoning_model(context, answers)


class FactorEmbedder(nn.Module):
    """The true factors as embeddings: 'values' in [-0.5, 0.5] or 'onehot' (the reference's baselines)."""

    def __init__(self, kind, num_factor_values):
        super().__init__()
        self.kind = kind
        self.num_factor_values = [int(n) for n in num_factor_values]
        self.embedding_dim = len(self.num_factor_values) if kind == "values" else sum(self.num_factor_values)
        self.register_buffer("max_values", torch.tensor(self.num_factor_values, dtype=torch.float32) - 1.,
                             persistent=False)

    def embed(self, factors):
        if self.kind == "values":
            return factors.float() / self.max_values - .5
        return torch.cat([F.one_hot(factors[..., i], n).float() for i, n in enumerate(self.num_factor_values)],
                         dim=-1)

    def forward(self, batch):
        return self.embed(batch["context_factors"]), self.embed(batch["answers_factors"])


class _PanelEmbedder(nn.Module):
    """Embeds the 8 context and 6 answer panels with one call of `embed_images` on all 14 of them."""

    def forward(self, batch):
        context, answers = batch["context"], batch["answers"]
        panels = torch.cat([context, answers], dim=1)
        embeddings = relational_layers.multi_dim_batch_apply(self.embed_images, panels)
        return embeddings[:, :context.shape[1]], embeddings[:, context.shape[1]:]


@gin.configurable
class BaselineCNNEmbedder(_PanelEmbedder):
    """A CNN learned from scratch: 4 convolutions (32, 32, 64, 64 channels; 4x4, stride 2, 'same'), flattened."""

    def __init__(self, num_latent=gin.REQUIRED, name="BaselineCNNEmbedder", observation_shape=(64, 64, 3)):
        """`num_latent` is required but unused, as in the reference (the embedding is the flattened features)."""
        super().__init__()
        del num_latent, name
        height, width, channels = observation_shape
        if height % 16 or width % 16:
            raise UserError("BaselineCNNEmbedder needs images whose sides are multiples of 16, not {}x{}".format(
                height, width))
        self.activation = get_activation()
        initializer = get_kernel_initializer()
        sizes = [channels, 32, 32, 64, 64]
        # TF's 'same' padding for a 4x4 kernel with stride 2 on an even side pads one pixel on each side.
        self.convs = nn.ModuleList(initialize(nn.Conv2d(a, b, 4, stride=2, padding=1), initializer)
                                   for a, b in zip(sizes[:-1], sizes[1:]))
        self.embedding_dim = 64 * (height // 16) * (width // 16)

    def embed_images(self, images):
        x = images.permute(0, 3, 1, 2)
        for conv in self.convs:
            x = self.activation(conv(x))
        return x.permute(0, 2, 3, 1).flatten(1)  # Keras' Flatten order (NHWC)


@gin.configurable("HubEmbedding")
class TorchScriptEmbedding(_PanelEmbedder):
    """A frozen representation (`representation.pt` of dtl_postprocess); gin name `HubEmbedding`, whose
    `hub_path` dtl_reason binds to `<input_dir>/exported/representation.pt` (the reference's TF-Hub module)."""

    def __init__(self, hub_path=gin.REQUIRED, name="HubEmbedding", observation_shape=(64, 64, 3)):
        super().__init__()
        del name
        self.module = exported_modules.load(hub_path)
        for parameter in self.module.parameters():
            parameter.requires_grad_(False)
        with torch.no_grad():
            self.embedding_dim = int(self.module(torch.zeros(1, *observation_shape)).shape[-1])

    def train(self, mode=True):
        super().train(mode)
        self.module.eval()  # the representation is fixed: never in training mode
        return self

    def embed_images(self, images):
        with torch.no_grad():
            return self.module(images)


@gin.configurable
class OptimizedWildRelNet(nn.Module):
    """The WReN reasoning module: for each answer, the 8 context panels and the answer, tagged with their
    positions, are related pairwise by the edge MLP (summed over all 81 ordered pairs), and the graph MLP turns
    the sum into the answer's logit."""

    def __init__(self, edge_mlp=gin.REQUIRED, graph_mlp=gin.REQUIRED, dropout_in_last_graph_layer=gin.REQUIRED,
                 name="OptimizedWildRelNet", embedding_dim=gin.REQUIRED, num_nodes=9):
        """
        Args:
          edge_mlp: units of the edge MLP's layers, e.g. [512, 512, 512, 512].
          graph_mlp: units of the graph MLP's hidden layers, e.g. [256, 256].
          dropout_in_last_graph_layer: as in the reference, the fraction KEPT (Keras' Dropout(1 - value)) after
            the last hidden graph layer, with one mask for the whole batch (its noise_shape [1, 1, units]);
            0 or None: no dropout.
          name: unused.
          embedding_dim: size of a panel's embedding (set by TwoStageModel).
          num_nodes: panels per answer (8 context + 1 answer).
        """
        super().__init__()
        del name
        edge_mlp = [validation.check_int("OptimizedWildRelNet.edge_mlp[]", u, minimum=1) for u in edge_mlp]
        graph_mlp = [validation.check_int("OptimizedWildRelNet.graph_mlp[]", u, minimum=1) for u in graph_mlp]
        if not edge_mlp or not graph_mlp:
            raise ConfigError("OptimizedWildRelNet.edge_mlp and .graph_mlp need at least one layer each")
        self.keep_probability = None
        if dropout_in_last_graph_layer:
            self.keep_probability = validation.check_float("OptimizedWildRelNet.dropout_in_last_graph_layer",
                                                           dropout_in_last_graph_layer, 0., 1., False)
        self.activation = get_activation()
        node_dim = embedding_dim + num_nodes
        self.edge_layers = nn.ModuleList(_linear(a, b) for a, b in zip([2 * node_dim] + edge_mlp[:-1], edge_mlp))
        self.graph_layers = nn.ModuleList(_linear(a, b) for a, b in zip(edge_mlp[-1:] + graph_mlp[:-1], graph_mlp))
        self.output_layer = _linear(graph_mlp[-1], 1)
        self.node_dim = node_dim

    def forward(self, context, answers):
        """[B, 8, D] and [B, 6, D] -> logits [B, 6]."""
        nodes = relational_layers.add_positional_encoding(relational_layers.stack_answers(context, answers))
        # The first edge layer on the pair (x_i, x_j) is W_i x_i + W_j x_j + b: computed per node, then added
        # for every pair, instead of multiplying the 81 concatenated pairs (the same arithmetic, less work).
        first = self.edge_layers[0]
        from_first = F.linear(nodes, first.weight[:, :self.node_dim], first.bias)
        from_second = F.linear(nodes, first.weight[:, self.node_dim:])
        edges = self.activation(from_first.unsqueeze(-2) + from_second.unsqueeze(-3))  # [B, 6, 9, 9, U]
        for layer in self.edge_layers[1:]:
            edges = self.activation(layer(edges))
        x = edges.sum(dim=(-3, -2))  # sum over both ends of every edge -> [B, 6, U]
        for layer in self.graph_layers:
            x = self.activation(layer(x))
        if self.keep_probability is not None and self.keep_probability < 1 and self.training:
            mask = torch.rand(x.shape[-1], device=x.device) < self.keep_probability
            x = x * mask.to(x.dtype) / self.keep_probability
        return self.output_layer(x).squeeze(-1)
