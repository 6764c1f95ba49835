"""A tiny causal LM built from a config (no download) and a dataset of random token ids."""

from __future__ import annotations

import torch


def tiny_gpt2(seed: int = 0, dropout: float = 0.1):
    from transformers import GPT2Config, GPT2LMHeadModel
    torch.manual_seed(seed)
    cfg = GPT2Config(vocab_size=96, n_embd=32, n_layer=2, n_head=4, n_positions=32, resid_pdrop=dropout,
                     embd_pdrop=dropout, attn_pdrop=dropout, bos_token_id=0, eos_token_id=0)
    return GPT2LMHeadModel(cfg)


class Tokens(torch.utils.data.Dataset):
    def __init__(self, n: int = 16, seq: int = 16, vocab: int = 96, seed: int = 1):
        g = torch.Generator().manual_seed(seed)
        self.ids = torch.randint(1, vocab, (n, seq), generator=g)

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.ids[i]}


def trainer(tmp_path, callbacks=(), steps: int = 4, seed: int = 0, report_to="none", out="out", **args):
    from transformers import Trainer, TrainingArguments
    targs = TrainingArguments(output_dir=str(tmp_path / out), max_steps=steps, per_device_train_batch_size=4,
                              learning_rate=1e-3, logging_steps=1, save_strategy="no", report_to=report_to,
                              use_cpu=True, seed=seed, data_seed=seed, dataloader_num_workers=0,
                              disable_tqdm=True, **args)
    return Trainer(model=tiny_gpt2(seed), args=targs, train_dataset=Tokens(), callbacks=list(callbacks))
