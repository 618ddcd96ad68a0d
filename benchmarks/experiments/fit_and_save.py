"""Experiment (not product code): fit pop, itemknn, als, content and SASRec (+ product text) on the
Beauty training part with seed 42 through the eval harness, print the test metrics, and save the
fitted models and the text embeddings to OUT for `rerank_lgbm.py`.

    python benchmarks/experiments/fit_and_save.py OUT      # ~15 min on the 2-core CPU
"""
import sys, time, gzip, json, numpy as np
from pathlib import Path
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
OUT = Path(sys.argv[1]); OUT.mkdir(parents=True, exist_ok=True)
from ranking.evaluate import EvalConfig, prepare, run_seed, embed_titles
meta = {}
for line in gzip.open(ROOT / 'data/beauty/item_meta.tsv.gz','rt'):
    a,b,c,allc = line.rstrip('\n').split('\t')
    meta[a]=(b,c,allc)
cfg = EvalConfig(models=('pop','itemknn','als','content','sasrec','fusion'), embed_cache=ROOT / '.shopassist/cache')
say=lambda m: print(m, file=sys.stderr, flush=True)
prep = prepare(ROOT / 'data/beauty/sequences.txt.gz', ROOT / 'data/beauty/items.tsv.gz', cfg, say)
d = prep.data
saved = d.titles
d.titles = {i: f"{saved.get(i,'')}. {meta.get(i,('','',''))[0]}. {meta.get(i,('','',''))[1]}" for i in d.item_ids}
prep.embeddings, note = embed_titles(d, 'minilm', cfg.embed_cache, say)
t0=time.time()
r = run_seed(prep, cfg, 42, say)
print('seconds', time.time()-t0)
print(json.dumps({k: (v['test']['NDCG@10'], v['test']['HR@10'], v.get('best_epoch'), v.get('epochs')) for k,v in r.entries.items()}), r.weights, flush=True)
for n, m in r.models.items():
    m.save(OUT / n)
np.save(OUT / 'emb.npy', prep.embeddings)
(OUT / 'weights.json').write_text(json.dumps(r.weights))
