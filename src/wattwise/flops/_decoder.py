"""A small, readable decoder-only transformer (GPT-2 and LLaMA flavours) used to count built-in shapes.

Imports torch at module import: only `shapes.build_model` imports this module.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InvalidValueError


class Attention(nn.Module):
    def __init__(self, s, attention: str):
        super().__init__()
        self.s, self.attention = s, attention
        hd = s.head_dim
        self.q_proj = nn.Linear(s.d_model, s.n_heads * hd, bias=s.bias)
        self.k_proj = nn.Linear(s.d_model, s.kv_heads * hd, bias=s.bias)
        self.v_proj = nn.Linear(s.d_model, s.kv_heads * hd, bias=s.bias)
        self.o_proj = nn.Linear(s.n_heads * hd, s.d_model, bias=s.bias)
        if not s.learned_positions:  # rotary embeddings (Su et al. 2021), as in LLaMA
            self.register_buffer("inv_freq", 1.0 / (10000.0 ** (torch.arange(0, hd, 2).float() / hd)),
                                 persistent=False)

    def _rope(self, x, seq: int):
        t = torch.arange(seq, device=x.device, dtype=torch.float32)
        freqs = torch.outer(t, self.inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        x1, x2 = x.chunk(2, dim=-1)
        return x * cos + torch.cat((-x2, x1), dim=-1) * sin

    def forward(self, x):
        B, T, _ = x.shape
        s, hd = self.s, self.s.head_dim
        q = self.q_proj(x).view(B, T, s.n_heads, hd).transpose(1, 2)
        k = self.k_proj(x).view(B, T, s.kv_heads, hd).transpose(1, 2)
        v = self.v_proj(x).view(B, T, s.kv_heads, hd).transpose(1, 2)
        if not s.learned_positions:
            q, k = self._rope(q, T), self._rope(k, T)
        if s.kv_heads != s.n_heads:  # grouped-query attention: share each K/V head across n_heads / kv_heads
            rep = s.n_heads // s.kv_heads
            k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
        if self.attention == "sdpa":
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
            mask = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
            att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
            y = att @ v
        return self.o_proj(y.transpose(1, 2).reshape(B, T, s.n_heads * hd))


class MLP(nn.Module):
    def __init__(self, s):
        super().__init__()
        self.gated = s.gated_mlp
        self.up_proj = nn.Linear(s.d_model, s.d_ff, bias=s.bias)
        if s.gated_mlp:
            self.gate_proj = nn.Linear(s.d_model, s.d_ff, bias=s.bias)
        self.down_proj = nn.Linear(s.d_ff, s.d_model, bias=s.bias)

    def forward(self, x):
        if self.gated:  # SwiGLU (Shazeer 2020), as in LLaMA
            return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))
        return self.down_proj(F.gelu(self.up_proj(x), approximate="tanh"))


def _norm(s):
    return nn.LayerNorm(s.d_model) if s.norm == "layernorm" else nn.RMSNorm(s.d_model, eps=1e-5)


class Block(nn.Module):
    def __init__(self, s, attention: str):
        super().__init__()
        self.ln_1, self.attn, self.ln_2, self.mlp = _norm(s), Attention(s, attention), _norm(s), MLP(s)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class Decoder(nn.Module):
    """Token ids (B, T) -> logits (B, T, vocab)."""

    def __init__(self, shape, attention: str = "sdpa"):
        super().__init__()
        self.shape = shape
        self.wte = nn.Embedding(shape.vocab, shape.d_model)
        if shape.learned_positions:
            self.wpe = nn.Embedding(shape.n_ctx, shape.d_model)
        self.blocks = nn.ModuleList(Block(shape, attention) for _ in range(shape.n_layers))
        self.ln_f = _norm(shape)
        if not shape.tied_embeddings:
            self.lm_head = nn.Linear(shape.d_model, shape.vocab, bias=False)

    def forward(self, idx):
        T = idx.shape[1]
        if self.shape.learned_positions and T > self.shape.n_ctx:
            raise InvalidValueError(f"seq={T} exceeds the context n_ctx={self.shape.n_ctx} of {self.shape.name}")
        x = self.wte(idx)
        if self.shape.learned_positions:
            x = x + self.wpe(torch.arange(T, device=idx.device))
        for block in self.blocks:
            x = block(x)
        x = self.ln_f(x)
        if self.shape.tied_embeddings:
            return F.linear(x, self.wte.weight)
        return self.lm_head(x)
