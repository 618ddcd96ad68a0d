"""One SASRec configuration of the GPU hyper-parameter sweep (results: benchmarks/results/sasrec_sweep_h100.txt).

Run on a machine with CUDA, one process per configuration, from the repository root:
    OUT=out_dir python benchmarks/sweep_sasrec_gpu.py NAME '{"text_mode": "add", "lr": 0.0005}'
(text_mode "add" needs build/sa/beauty_minilm.npy: the MiniLM title embeddings, rows = sorted item ids).
Writes OUT/NAME.log (epochs) and OUT/NAME.json (test metrics + validation curve).
If pydantic is missing on the GPU machine, a stand-in is used (the sweep only needs BaseModel to import).
"""
import sys, os, json, time, types
try:
    import pydantic  # noqa
except ImportError:
    m = types.ModuleType("pydantic")
    class BaseModel:
        def __init__(self, **kw): self.__dict__.update(kw)
    m.BaseModel = BaseModel; sys.modules["pydantic"] = m
sys.path.insert(0, os.getcwd())
import numpy as np
from ranking.data import read_sequences, interactions_from_sequences, leave_one_out
from ranking.metrics import target_ranks, ndcg_at_k, hit_rate_at_k
from ranking.sequential import SASRec, SASRecConfig
name, kw = sys.argv[1], json.loads(sys.argv[2])
seqs = read_sequences("data/beauty/sequences.txt.gz")
ids = sorted({i for _, s in seqs for i in s})
index = {x: r for r, x in enumerate(ids)}
split = leave_one_out(interactions_from_sequences(seqs, index))
text = np.load("build/sa/beauty_minilm.npy").astype(np.float32) if kw.get("text_mode") == "add" else None
base = dict(device="cuda", threads=1, max_minutes=7.5, patience=8, max_epochs=400)
base.update(kw)
m = SASRec(SASRecConfig(**base), text_embeddings=text)
log = open(os.path.join(os.environ["OUT"], name + ".log"), "w")
t = time.time()
m.fit(split.train, validation=(split.valid_histories(), split.valid_targets), progress=lambda s: (log.write(s + "\n"), log.flush()))
hists = split.test_histories(); tg = split.test_targets
r = np.concatenate([target_ranks(m.score_batch(hists[s:s+2048]), tg[s:s+2048], exclude=hists[s:s+2048]) for s in range(0, len(hists), 2048)])
res = dict(name=name, kw=kw, test_hr10=hit_rate_at_k(r, 10), test_ndcg10=ndcg_at_k(r, 10), secs=time.time() - t, history=m.history_)
json.dump(res, open(os.path.join(os.environ["OUT"], name + ".json"), "w"))
print(name, "HR@10 %.4f NDCG@10 %.4f" % (res["test_hr10"], res["test_ndcg10"]), "best val", max(h["ndcg@10"] for h in m.history_), "epochs", len(m.history_), flush=True)
