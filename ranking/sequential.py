"""A SASRec-style sequential recommender: a causal transformer over item ids, trained with
cross-entropy over the full item vocabulary (every position predicts the next item).

Design (after SASRec, Kang & McAuley 2018, with the CE loss of Klenitskiy & Vasilev 2023):
- item embeddings (optionally + a frozen projection of the product text embeddings) plus
  learned positions, dropout, N pre-LayerNorm transformer blocks with causal
  `scaled_dot_product_attention`, a final LayerNorm;
- output logits = hidden @ item_embeddings^T (weights tied), softmax over ALL items;
- right padding, so causal attention never sees a pad and no key mask is needed; batches are
  bucketed by length and the loss is computed only at real positions (most Beauty sequences
  are short, so this is ~7x less work than padding everything to max_len);
- early stopping on validation NDCG@10 (full ranking), a wall-clock budget, fixed seed.

torch is imported inside the functions and classes that need it: importing this module is cheap.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields

import numpy as np

from .base import Recommender
from .data import Interactions

from retrieval.device import resolve_device


@dataclass
class SASRecConfig:
    # Most recent items the model reads (older ones are dropped).
    max_len: int = 50
    # Width of item / position embeddings and of the transformer.
    d_model: int = 128
    # Transformer blocks.
    n_layers: int = 2
    # Attention heads per block (d_model must be divisible by it).
    n_heads: int = 2
    # Hidden width of the feed-forward sublayer, as a multiple of d_model.
    ffn_mult: int = 4
    # Dropout on the input embeddings and on every residual branch.
    dropout: float = 0.5
    # Dropout on the attention weights.
    attn_dropout: float = 0.2
    # Label smoothing of the cross-entropy (0 = none).
    label_smoothing: float = 0.0
    # AdamW learning rate.
    lr: float = 5e-4
    # AdamW decoupled weight decay.
    weight_decay: float = 0.0
    # Training sequences per batch.
    batch_size: int = 128
    # Upper bound on epochs (early stopping and max_minutes usually end training first).
    max_epochs: int = 200
    # Stop after this many validations without a better NDCG@10.
    patience: int = 5
    # Validate every this many epochs.
    eval_every: int = 1
    # Wall-clock training budget in minutes (the best validated weights are kept).
    max_minutes: float = 25.0
    # Validation users used for early stopping (a fixed random subset when there are more; 0 = all).
    # Bounds the per-epoch validation on large files; Amazon Beauty (22,363) uses all of them.
    max_eval_users: int = 25_000
    # Frozen product text embeddings: "add" (a learned linear projection added to the id
    # embedding, input and output), "none", or "auto" (= "add" when embeddings are given).
    text_mode: str = "auto"
    # Position embeddings: "recent" counts back from the newest item (it always sits at position
    # max_len - 1, as in SASRec's left-padded windows, Kang & McAuley 2018, and the SASRec-CE of
    # Xu et al. 2024 that scores 0.0591 NDCG@10 on this Beauty build), so a position says how
    # recent an item is; "start" counts from the oldest item of the window (this model's first
    # layout; bundles saved without this field load with it).
    positions: str = "recent"
    # Seed of initialisation, shuffling and dropout.
    seed: int = 42
    # torch CPU threads while training / scoring (0 = leave torch's setting).
    threads: int = 2
    # "cpu", "cuda" or "auto" (cuda when available); the saved model always loads on the CPU.
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.d_model % self.n_heads:
            raise ValueError(f"Expected d_model divisible by n_heads, got {self.d_model} and {self.n_heads}")
        if self.device not in ("cpu", "cuda", "auto"):
            raise ValueError(f"Expected device to be one of cpu, cuda, auto, got {self.device!r}")
        if self.text_mode not in ("none", "add", "auto"):
            raise ValueError(f"Expected text_mode to be one of none, add, auto, got {self.text_mode!r}")
        if self.positions not in ("recent", "start"):
            raise ValueError(f"Expected positions to be one of recent, start, got {self.positions!r}")


def _build_net(n_items: int, cfg: SASRecConfig, text_dim: int = 0):
    import torch
    import torch.nn.functional as F
    from torch import nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            d = cfg.d_model
            self.ln1 = nn.LayerNorm(d)
            self.qkv = nn.Linear(d, 3 * d)
            self.proj = nn.Linear(d, d)
            self.ln2 = nn.LayerNorm(d)
            self.ffn = nn.Sequential(nn.Linear(d, cfg.ffn_mult * d), nn.GELU(), nn.Linear(cfg.ffn_mult * d, d))
            self.drop = nn.Dropout(cfg.dropout)

        def forward(self, x):
            B, L, d = x.shape
            q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
            heads = lambda t: t.view(B, L, cfg.n_heads, d // cfg.n_heads).transpose(1, 2)  # noqa: E731
            a = F.scaled_dot_product_attention(
                heads(q), heads(k), heads(v), is_causal=True,
                dropout_p=cfg.attn_dropout if self.training else 0.0,
            )
            x = x + self.drop(self.proj(a.transpose(1, 2).reshape(B, L, d)))
            return x + self.drop(self.ffn(self.ln2(x)))

    class SASRecNet(nn.Module):
        def __init__(self):
            super().__init__()
            d = cfg.d_model
            self.n_items = n_items
            self.item_emb = nn.Embedding(n_items + 1, d, padding_idx=n_items)  # row n_items = pad
            self.pos_emb = nn.Embedding(cfg.max_len, d)
            self.text_proj = nn.Linear(text_dim, d, bias=False) if text_dim else None
            if text_dim:
                self.register_buffer("text", torch.zeros(n_items + 1, text_dim))
            self.drop = nn.Dropout(cfg.dropout)
            self.blocks = nn.ModuleList(Block() for _ in range(cfg.n_layers))
            self.ln_f = nn.LayerNorm(d)
            nn.init.normal_(self.item_emb.weight, std=0.02)
            nn.init.normal_(self.pos_emb.weight, std=0.02)
            with torch.no_grad():
                self.item_emb.weight[n_items].zero_()

        def item_table(self):
            """(n_items + 1, d): id embedding (+ projected text); used for input and output."""
            w = self.item_emb.weight
            if self.text_proj is not None:
                w = w + self.text_proj(self.text)
            return w

        def hidden(self, seqs, table=None):
            """seqs (B, L) right-padded item rows -> hidden states (B, L, d)."""
            table = self.item_table() if table is None else table
            L = seqs.shape[1]
            if cfg.positions == "recent":   # the newest real item of each row at max_len - 1
                lengths = (seqs != n_items).sum(1, keepdim=True)
                idx = (cfg.max_len - lengths + torch.arange(L, device=seqs.device)).clamp_(0, cfg.max_len - 1)
                pos = self.pos_emb(idx)
            else:
                pos = self.pos_emb.weight[:L]
            x = table[seqs] * math.sqrt(cfg.d_model) + pos
            x = self.drop(x)
            for block in self.blocks:
                x = block(x)
            return self.ln_f(x)

        def logits(self, h, table=None):
            """hidden (..., d) -> logits over the n_items real items."""
            table = self.item_table() if table is None else table
            return h @ table[: self.n_items].T

    return SASRecNet()


def _device(name: str):
    """The torch.device for a config's "cpu" / "cuda" / "auto" (chosen by retrieval.device)."""
    import torch

    return torch.device(resolve_device(name))


def _pad_batch(seqs: Sequence[np.ndarray], pad: int) -> np.ndarray:
    L = max(len(s) for s in seqs)
    out = np.full((len(seqs), L), pad, dtype=np.int64)
    for b, s in enumerate(seqs):
        out[b, : len(s)] = s
    return out


class SASRec(Recommender):
    """Causal-transformer next-item model over item ids (see module docstring)."""

    name = "sasrec"
    parallel_live = True   # torch kernels run without the GIL: scored beside the numpy models

    def __init__(self, config: SASRecConfig | None = None, text_embeddings: np.ndarray | None = None, **kwargs):
        self.config = config or SASRecConfig(**kwargs)
        if self.config.text_mode == "add" and text_embeddings is None:
            raise ValueError("text_mode='add' needs text_embeddings=(n_items, dim) array (or use text_mode='auto')")
        use_text = self.config.text_mode == "add" or (self.config.text_mode == "auto" and text_embeddings is not None)
        self.text_embeddings = np.asarray(text_embeddings, np.float32) if use_text else None
        self.net = None
        self._table = None  # inference cache of net.item_table() (the text projection is 12k x 384 x d)
        self.n_items = 0
        self.history_: list[dict] = []  # per validation: epoch, loss, ndcg@10, hr@10, seconds
        self.best_epoch_: int | None = None  # the validated epoch whose weights fit() kept

    # Training ------------------------------------------------------------------------------
    def _windows(self, sequences: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Training windows of at most max_len + 1 items: the latest window of every user with
        2+ items, plus earlier non-overlapping windows of longer sequences."""
        L = self.config.max_len + 1
        out = []
        for s in sequences:
            end = len(s)
            while end >= 2:
                out.append(np.asarray(s[max(0, end - L) : end], dtype=np.int64))
                end -= L - 1
        return out

    def fit(
        self,
        interactions: Interactions,
        validation: tuple[Sequence[np.ndarray], np.ndarray] | None = None,
        progress: Callable[[str], None] | None = print,
    ) -> "SASRec":
        """Train on every user's sequence (each position predicts the next item).

        validation: (histories, targets) for early stopping on NDCG@10 (full ranking, history
        excluded, pessimistic ties). Without it, training runs max_epochs (or max_minutes).
        """
        import torch
        import torch.nn.functional as F

        cfg = self.config
        say = progress or (lambda _msg: None)
        old_threads = torch.get_num_threads()
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        try:
            torch.manual_seed(cfg.seed)
            rng = np.random.default_rng(cfg.seed)
            dev = _device(cfg.device)
            self.n_items = n = interactions.n_items
            self.net = _build_net(n, cfg, 0 if self.text_embeddings is None else self.text_embeddings.shape[1])
            self._table = None
            self._load_text()
            self.net.to(dev)
            windows = self._windows(interactions.sequences)
            if not windows:
                raise ValueError("SASRec needs at least one user with 2 or more items to train")
            lengths = np.array([len(w) for w in windows])
            opt = torch.optim.AdamW(self.net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.98))
            if validation is not None:
                v_hist, v_tgt = validation
                v_idx = np.arange(len(v_tgt))
                if cfg.max_eval_users and len(v_idx) > cfg.max_eval_users:
                    v_idx = np.sort(np.random.default_rng(cfg.seed + 1).choice(len(v_idx), cfg.max_eval_users, replace=False))
                v_hist = [np.asarray(v_hist[i], dtype=np.int64) for i in v_idx]
                v_tgt = np.asarray(v_tgt, dtype=np.int64)[v_idx]
            best, best_state, bad, t0 = -1.0, None, 0, time.time()
            n_params = sum(p.numel() for p in self.net.parameters() if p.requires_grad)
            say(f"sasrec: {len(windows):,} training sequences, {n:,} items, {n_params:,} parameters, "
                f"d={cfg.d_model} layers={cfg.n_layers} max_len={cfg.max_len} on {dev.type}")
            self.history_ = []
            self.best_epoch_ = None   # the epoch whose weights are kept (ties in the rounded history hide it)
            for epoch in range(1, cfg.max_epochs + 1):
                self.net.train()
                total = torch.zeros((), device=dev)
                count = 0
                for batch in self._batches(lengths, rng):
                    seqs = torch.from_numpy(_pad_batch([windows[i] for i in batch], n)).to(dev)
                    x, y = seqs[:, :-1], seqs[:, 1:]
                    mask = y != n
                    table = self.net.item_table()  # once per step (text projection included)
                    h = self.net.hidden(x, table)[mask]
                    loss = F.cross_entropy(self.net.logits(h, table), y[mask], label_smoothing=cfg.label_smoothing)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    m = int(mask.sum())
                    total += loss.detach() * m
                    count += m
                train_loss = float(total) / max(count, 1)
                elapsed = time.time() - t0
                out_of_time = elapsed > cfg.max_minutes * 60
                msg = f"sasrec epoch {epoch:3d}  loss {train_loss:.4f}  {elapsed:6.0f}s"
                if validation is not None and (epoch % cfg.eval_every == 0 or out_of_time):
                    ndcg, hr = self._validate(v_hist, v_tgt)
                    self.history_.append({"epoch": epoch, "loss": round(train_loss, 5), "ndcg@10": round(ndcg, 5),
                                          "hr@10": round(hr, 5), "seconds": round(time.time() - t0, 1)})
                    msg += f"  val NDCG@10 {ndcg:.4f}  HR@10 {hr:.4f}"
                    if ndcg > best:
                        best, bad, self.best_epoch_ = ndcg, 0, epoch
                        best_state = {k: v.detach().clone() for k, v in self.net.state_dict().items()}
                        msg += "  *"
                    else:
                        bad += 1
                say(msg)
                if validation is not None and bad >= cfg.patience:
                    say(f"sasrec: early stop after epoch {epoch} (best val NDCG@10 {best:.4f})")
                    break
                if out_of_time:
                    say(f"sasrec: time budget of {cfg.max_minutes} min reached after epoch {epoch}")
                    break
            if best_state is not None:
                self.net.load_state_dict(best_state)
            self.net.to("cpu").eval()
            self._table = None
            self.train_seconds_ = time.time() - t0
        finally:
            torch.set_num_threads(old_threads)
        return self

    def _validate(self, histories: list[np.ndarray], targets: np.ndarray, batch_size: int = 1024) -> tuple[float, float]:
        """(NDCG@10, HR@10) on the net's device: full ranking, history excluded, pessimistic ties."""
        import torch

        dev = next(self.net.parameters()).device
        gains, hits = 0.0, 0
        self.net.eval()
        self._table = None  # weights changed since the last validation
        with torch.inference_mode():
            for part in self._length_batches(histories, batch_size):
                hs = [histories[i] for i in part]
                tg = torch.from_numpy(targets[part]).to(dev)
                scores = self._logits(hs, dev)
                rows = torch.arange(len(hs), device=dev)
                t = scores[rows, tg].clone()
                b_idx = np.repeat(np.arange(len(hs)), [len(h) for h in hs])
                i_idx = np.concatenate(hs)
                scores[torch.from_numpy(b_idx).to(dev), torch.from_numpy(i_idx).to(dev)] = -torch.inf
                scores[rows, tg] = t
                rank = (scores >= t[:, None]).sum(1) - 1   # ties count against the target
                top = rank < 10
                gains += float((1.0 / torch.log2(rank[top].double() + 2.0)).sum())
                hits += int(top.sum())
        return gains / len(histories), hits / len(histories)

    def _length_batches(self, histories, batch_size: int) -> list[np.ndarray]:
        """Row indices of `histories` in batches of similar (window) length: a batch is padded
        to its longest row, so length order cuts the transformer's work on Beauty's validation
        ~6x (12.3 -> 1.9 s for 22k users: most histories are short, a few reach max_len)."""
        lengths = np.fromiter((min(len(h), self.config.max_len) for h in histories), np.int64, len(histories))
        order = np.argsort(lengths, kind="stable")
        return [order[s : s + batch_size] for s in range(0, len(order), batch_size)]

    def _batches(self, lengths: np.ndarray, rng: np.random.Generator):
        """Shuffled batches of similar length (sorted within chunks of 50 batches)."""
        bs = self.config.batch_size
        perm = rng.permutation(len(lengths))
        chunk = bs * 50
        batches = []
        for start in range(0, len(perm), chunk):
            part = perm[start : start + chunk]
            part = part[np.argsort(lengths[part], kind="stable")]
            batches.extend(part[i : i + bs] for i in range(0, len(part), bs))
        for i in rng.permutation(len(batches)):
            yield batches[i]

    def _load_text(self) -> None:
        if self.text_embeddings is None:
            return
        import torch

        t = np.zeros((self.n_items + 1, self.text_embeddings.shape[1]), np.float32)
        t[: self.n_items] = self.text_embeddings
        self.net.text.copy_(torch.from_numpy(t))

    # Scoring -------------------------------------------------------------------------------
    def _score(self, history, weights):
        return self.score_batch([history])[0]

    def _logits(self, histories, dev):
        """(len(histories), n_items) logits on `dev` for non-empty histories (last max_len items)."""
        import torch

        L = self.config.max_len
        chunk = [np.asarray(h, dtype=np.int64)[-L:] for h in histories]
        seqs = torch.from_numpy(_pad_batch(chunk, self.n_items)).to(dev)
        last = torch.tensor([len(h) - 1 for h in chunk], device=dev)
        if self._table is None:
            self._table = self.net.item_table().detach()
        table = self._table
        h = self.net.hidden(seqs, table)[torch.arange(len(chunk), device=dev), last]
        return self.net.logits(h, table).float()

    def score_batch(self, histories, weights=None, batch_size: int = 512):
        import torch

        self._require_fitted()
        out = np.zeros((len(histories), self.n_items), dtype=np.float32)
        dev = next(self.net.parameters()).device
        self.net.eval()
        # A live request (a few short sequences) runs in one torch thread: on a shared 2-core CPU,
        # intra-op threads turned a 3 ms forward pass into 100+ ms. Batches keep torch's setting.
        threads = torch.get_num_threads()
        if len(histories) <= 4 and threads > 1:
            torch.set_num_threads(1)
        try:
            return self._score_batch(histories, out, dev, batch_size)
        finally:
            if torch.get_num_threads() != threads:
                torch.set_num_threads(threads)

    def _score_batch(self, histories, out, dev, batch_size):
        import torch

        nonempty = np.fromiter((b for b, h in enumerate(histories) if len(h)), np.int64)
        with torch.inference_mode():
            for part in self._length_batches([histories[b] for b in nonempty], batch_size):
                rows = nonempty[part]
                out[rows] = self._logits([histories[b] for b in rows], dev).cpu().numpy()
        return out

    # Persistence ---------------------------------------------------------------------------
    def _state(self):
        arrays = {f"p:{k}": v.detach().cpu().numpy() for k, v in self.net.state_dict().items()}
        return arrays, {"config": asdict(self.config), "n_items": self.n_items, "history": self.history_}

    @classmethod
    def _from_state(cls, arrays, config):
        import torch

        names = {f.name for f in fields(SASRecConfig)}
        saved = {"positions": "start", **config["config"]}   # saved before "recent" positions existed
        cfg = SASRecConfig(**{k: v for k, v in saved.items() if k in names})
        text = arrays.get("p:text")
        m = cls(cfg, text_embeddings=None if text is None else text[:-1])
        m.n_items = int(config["n_items"])
        m.net = _build_net(m.n_items, cfg, 0 if text is None else text.shape[1])
        m.net.load_state_dict({k[2:]: torch.from_numpy(np.array(v)) for k, v in arrays.items() if k.startswith("p:")})
        m.net.eval()
        m.history_ = config.get("history", [])
        return m
