"""Small reference models for tests, benchmarks and the GPU check: a CNN, an MLP, a GPT-style transformer and
a mixture-of-experts transformer. torch is imported when a builder is called (never at module import).

The transformer's attention follows the Hugging Face naming (`num_heads`, `head_dim`, `q_proj`/`k_proj`/`v_proj`/
`o_proj`) so that `prune_structured` can remove whole heads.
"""

from __future__ import annotations

from ._deps import require_torch


def small_cnn(num_classes: int = 10, width: int = 32, in_channels: int = 3):
    """conv-bn-relu x 3, global average pool, linear classifier (input: N x 3 x H x W)."""
    nn = require_torch().nn
    w = width
    return nn.Sequential(
        nn.Conv2d(in_channels, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(),
        nn.Conv2d(w, 2 * w, 3, padding=1, stride=2), nn.BatchNorm2d(2 * w), nn.ReLU(),
        nn.Conv2d(2 * w, 4 * w, 3, padding=1, stride=2), nn.BatchNorm2d(4 * w), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4 * w, num_classes)).eval()


def small_mlp(d_in: int = 256, hidden: int = 1024, num_classes: int = 10, depth: int = 3):
    """Linear-ReLU stack of `depth` hidden layers and a classifier."""
    nn = require_torch().nn
    layers, d = [], d_in
    for _ in range(depth):
        layers += [nn.Linear(d, hidden), nn.ReLU()]
        d = hidden
    layers.append(nn.Linear(d, num_classes))
    return nn.Sequential(*layers).eval()


def small_transformer(vocab: int = 512, d_model: int = 128, n_heads: int = 4, n_layers: int = 2,
                      d_ff: int | None = None, max_seq: int = 128, n_experts: int = 0, top_k: int = 2):
    """A pre-norm causal decoder (GPT-style) returning logits (batch, seq, vocab); with `n_experts > 0` each
    block's MLP is a top-k routed mixture of experts (Shazeer et al. 2017; Fedus et al. 2022)."""
    torch = require_torch()
    nn, F = torch.nn, torch.nn.functional
    d_ff = d_ff or 4 * d_model

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.num_heads = n_heads
            self.head_dim = d_model // n_heads
            self.q_proj, self.k_proj, self.v_proj = (nn.Linear(d_model, d_model) for _ in range(3))
            self.o_proj = nn.Linear(d_model, d_model)

        def forward(self, x):
            b, s, _ = x.shape
            h, hd = self.num_heads, self.head_dim
            q, k, v = (p(x).view(b, s, h, hd).transpose(1, 2) for p in (self.q_proj, self.k_proj, self.v_proj))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.o_proj(y.transpose(1, 2).reshape(b, s, h * hd))

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)

        def forward(self, x):
            return self.fc2(F.gelu(self.fc1(x)))

    class MoE(nn.Module):
        def __init__(self):
            super().__init__()
            self.num_experts, self.top_k = n_experts, top_k
            self.router = nn.Linear(d_model, n_experts, bias=False)
            self.experts = nn.ModuleList(MLP() for _ in range(n_experts))

        def forward(self, x):
            shape = x.shape
            x = x.reshape(-1, shape[-1])
            w, idx = self.router(x).softmax(-1).topk(self.top_k, dim=-1)
            w = w / w.sum(-1, keepdim=True)
            out = torch.zeros_like(x)
            for e, expert in enumerate(self.experts):
                rows, slot = (idx == e).nonzero(as_tuple=True)
                if rows.numel():
                    out.index_add_(0, rows, expert(x[rows]) * w[rows, slot, None])
            return out.reshape(shape)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
            self.attn = Attention()
            self.mlp = MoE() if n_experts else MLP()

        def forward(self, x):
            x = x + self.attn(self.ln1(x))
            return x + self.mlp(self.ln2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(vocab, d_model)
            self.pos = nn.Embedding(max_seq, d_model)
            self.blocks = nn.ModuleList(Block() for _ in range(n_layers))
            self.ln_f = nn.LayerNorm(d_model)
            self.lm_head = nn.Linear(d_model, vocab, bias=False)

        def forward(self, idx):
            pos = torch.arange(idx.shape[1], device=idx.device)
            x = self.tok(idx) + self.pos(pos)
            for b in self.blocks:
                x = b(x)
            return self.lm_head(self.ln_f(x))

    return GPT().eval()


# names of the layers whose outputs are the residual stream: ignore them in structured pruning to remove only
# FFN neurons and attention heads (the residual width then stays as it is)
TRANSFORMER_RESIDUAL_LAYERS = ("o_proj", "fc2", "lm_head")
