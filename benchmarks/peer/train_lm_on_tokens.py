#!/usr/bin/env python3
"""Trains the PyTorch peer's AWD-LSTM language model on real token ids for a wall-time budget, then measures its
validation perplexity: the peer half of `Ulmfit.Benchmarks lm-equal-time`.

The model is the peer's own (`LanguageModel` from ../shared/peer/torch_awd_lstm_bench.py, imported by path, not
copied). The training protocol mirrors Ulmfit.NET's pretraining so the two runs differ only in the software and the
model they train: AdamW (beta2 0.99, eps 1e-5, weight decay 0.01), fastai's one-cycle policy (25 % half-cosine
warm-up from lr/25, half-cosine down to lr/1e5, beta1 cycling 0.8 -> 0.7 -> 0.8, fastai's text momentums), gradient norm clipped at 0.3,
AR 2 / TAR 1, truncated BPTT with the hidden state carried between windows. The number of steps is planned so that
training fills --seconds: a few steps on random ids (not counted, model re-initialised afterwards) measure the step
time first.

Inputs are raw little-endian int32 token-id files written by the C# side (same tokenizer and vocabulary). Validation
reads the validation ids in order as 64 rows in fixed windows of --bptt tokens, state carried, every position scored
(as Ulmfit.NET's evaluator does). Prints one JSON line.
"""
import argparse, importlib.util, json, math, os, time
from types import SimpleNamespace

import numpy as np
import torch
import torch.nn.functional as F


def load_peer(path):
    spec = importlib.util.spec_from_file_location("peer_bench", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rows(ids, bs):
    """(bs, n) tensor: the stream cut into bs consecutive rows (the tail that does not fill a row is dropped)."""
    n = len(ids) // bs
    return torch.from_numpy(ids[: n * bs].astype(np.int64)).view(bs, n)


def one_cycle(step, total, top):
    """fastai's fit_one_cycle: (lr, beta1) at step of total."""
    warm = max(1, int(0.25 * total))
    if step < warm:
        t = step / warm
        lr = top / 25 + (top - top / 25) * (1 - math.cos(math.pi * t)) / 2
        mom = 0.8 - 0.1 * (1 - math.cos(math.pi * t)) / 2
    else:
        t = (step - warm) / max(1, total - warm)
        low = top / 1e5
        lr = top - (top - low) * (1 - math.cos(math.pi * t)) / 2
        mom = 0.7 + 0.1 * (1 - math.cos(math.pi * t)) / 2
    return lr, mom


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--peer", required=True, help="path of the peer's torch_awd_lstm_bench.py")
    p.add_argument("--train", required=True, help="int32 token ids to train on, in order")
    p.add_argument("--valid", required=True, help="int32 token ids to validate on, in order")
    p.add_argument("--vocab", type=int, required=True)
    p.add_argument("--emb", type=int, default=400)
    p.add_argument("--hidden", type=int, default=1152)
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--bs", type=int, default=64)
    p.add_argument("--bptt", type=int, default=70)
    p.add_argument("--lr", type=float, default=8e-3)
    p.add_argument("--drop-mult", type=float, default=1.0)
    p.add_argument("--seconds", type=float, required=True, help="training wall-time budget")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    peer = load_peer(a.peer)
    shape = SimpleNamespace(vocab=a.vocab, emb=a.emb, hidden=a.hidden, layers=a.layers)
    train = rows(np.fromfile(a.train, dtype="<i4"), a.bs)
    valid = rows(np.fromfile(a.valid, dtype="<i4"), 64)

    def new_model():
        torch.manual_seed(a.seed)
        model = peer.LanguageModel(shape, drop_mult=a.drop_mult).train()
        opt = torch.optim.AdamW(model.parameters(), lr=a.lr, betas=(0.8, 0.99), eps=1e-5, weight_decay=0.01)
        return model, opt

    def step(model, opt, hidden, x, y, lr, mom):
        for group in opt.param_groups:
            group["lr"], group["betas"] = lr, (mom, 0.99)
        hidden = [(h.detach(), c.detach()) for h, c in hidden]
        logits, raw, dropped, hidden = model(x, hidden)
        loss = F.cross_entropy(logits.view(-1, a.vocab), y.reshape(-1))
        total = loss + 2.0 * dropped.pow(2).mean() + 1.0 * (raw[:, 1:] - raw[:, :-1]).pow(2).mean()
        opt.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.3)
        opt.step()
        return loss.item(), hidden

    # Plan: time a few steps on random ids, then start over with a fresh model.
    model, opt = new_model()
    hidden = model.body.init_hidden(a.bs)
    g = torch.Generator().manual_seed(a.seed)
    probe = []
    for i in range(6):
        x = torch.randint(2, a.vocab, (a.bs, a.bptt), generator=g)
        t0 = time.perf_counter()
        _, hidden = step(model, opt, hidden, x, x, a.lr / 25, 0.8)
        if i >= 2:
            probe.append(time.perf_counter() - t0)
    windows = (train.size(1) - 1) // a.bptt
    planned = max(1, min(windows, int(a.seconds / (sum(probe) / len(probe)))))

    model, opt = new_model()
    hidden = model.body.init_hidden(a.bs)
    start = time.perf_counter()
    losses = []
    for s in range(planned):
        i = s * a.bptt
        lr, mom = one_cycle(s, planned, a.lr)
        loss, hidden = step(model, opt, hidden, train[:, i:i + a.bptt], train[:, i + 1:i + 1 + a.bptt], lr, mom)
        if not math.isfinite(loss):
            raise SystemExit(f"training diverged at step {s} (loss {loss})")
        losses.append(loss)
    seconds = time.perf_counter() - start

    model.eval()
    total_loss, scored, correct = 0.0, 0, 0
    with torch.no_grad():
        hidden = model.body.init_hidden(64)
        for i in range(0, valid.size(1) - 1, a.bptt):
            x = valid[:, i:min(i + a.bptt, valid.size(1) - 1)]
            y = valid[:, i + 1:i + 1 + x.size(1)]
            logits, _, _, hidden = model(x, hidden)
            flat = logits.view(-1, a.vocab)
            total_loss += F.cross_entropy(flat, y.reshape(-1), reduction="sum").item()
            correct += (flat.argmax(1) == y.reshape(-1)).sum().item()
            scored += y.numel()
    valid_loss = total_loss / scored
    tokens = planned * a.bs * a.bptt
    print(json.dumps({
        "trained_tokens": tokens, "train_seconds": round(seconds, 2), "tokens_per_s": round(tokens / seconds, 1),
        "planned_steps": planned, "last_train_loss": round(sum(losses[-20:]) / len(losses[-20:]), 4),
        "valid_loss": round(valid_loss, 5), "valid_perplexity": round(math.exp(valid_loss), 2),
        "valid_accuracy": round(correct / scored, 5), "valid_tokens": scored,
        "config": {"vocab": a.vocab, "emb": a.emb, "hidden": a.hidden, "layers": a.layers, "bs": a.bs, "bptt": a.bptt,
                   "lr": a.lr, "drop_mult": a.drop_mult, "params": sum(t.numel() for t in model.parameters())},
        "torch": torch.__version__, "threads": torch.get_num_threads(),
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
    }))


if __name__ == "__main__":
    main()
