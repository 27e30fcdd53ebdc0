"""Building blocks of relational networks (the reference's relational_layers.py), as plain tensor functions.

Shapes follow the reference: node embeddings are [..., num_nodes, num_dims].
"""
import torch


def stack_answers(context, answers):
    """[B, 8, D] context and [B, 6, D] answers -> [B, 6, 9, D]: each answer appended to the context."""
    num_answers = answers.shape[-2]
    context = context.unsqueeze(-3).expand(*context.shape[:-2], num_answers, *context.shape[-2:])
    return torch.cat([context, answers.unsqueeze(-2)], dim=-2)


def add_positional_encoding(nodes):
    """[..., N, D] -> [..., N, D + N]: node i gets the one-hot vector of its position i appended."""
    num_nodes = nodes.shape[-2]
    eye = torch.eye(num_nodes, dtype=nodes.dtype, device=nodes.device)
    return torch.cat([nodes, eye.expand(*nodes.shape[:-2], num_nodes, num_nodes)], dim=-1)


def pairwise_edge_embeddings(nodes):
    """[..., N, D] -> [..., N, N, 2D] whose entry [i, j] is (node i, node j) concatenated (includes i == j)."""
    num_nodes = nodes.shape[-2]
    first = nodes.unsqueeze(-2).expand(*nodes.shape[:-1], num_nodes, nodes.shape[-1])
    second = nodes.unsqueeze(-3).expand(*nodes.shape[:-2], num_nodes, num_nodes, nodes.shape[-1])
    return torch.cat([first, second], dim=-1)


def multi_dim_batch_apply(layer, inputs, num_dims_to_keep=3):
    """Applies `layer` to the last `num_dims_to_keep` dimensions, the leading ones flattened into one batch."""
    batch_shape = inputs.shape[:-num_dims_to_keep]
    outputs = layer(inputs.reshape(-1, *inputs.shape[-num_dims_to_keep:]))
    return outputs.reshape(*batch_shape, *outputs.shape[1:])
