"""Experiment (not product code): fit pop, itemknn, als, content and SASRec (+ product text) on the
Beauty training part with seed 42 through the eval harness, print the test metrics, and save the
fitted models and the text embeddings to OUT for `rerank_lgbm.py`. (The figures quoted in
rerank_lgbm.py came from a first version that joined the text by hand as "title. brand. category",
the brand even when the title holds it; this version uses the eval's own join.)

    python benchmarks/experiments/fit_and_save.py OUT      # ~15 min on the 2-core CPU
"""
import sys, time, json, numpy as np
from pathlib import Path
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
OUT = Path(sys.argv[1]); OUT.mkdir(parents=True, exist_ok=True)
from ranking.evaluate import EvalConfig, prepare, run_seed
cfg = EvalConfig(models=('pop','itemknn','als','content','sasrec','fusion'), embed_cache=ROOT / '.shopassist/cache')
say=lambda m: print(m, file=sys.stderr, flush=True)
# the product text of `eval --item-meta` (Product.search_text: title, brand unless in the title, category)
prep = prepare(ROOT / 'data/beauty/sequences.txt.gz', ROOT / 'data/beauty/items.tsv.gz', cfg, say,
               item_meta=ROOT / 'data/beauty/item_meta.tsv.gz')
t0=time.time()
r = run_seed(prep, cfg, 42, say)
print('seconds', time.time()-t0)
print(json.dumps({k: (v['test']['NDCG@10'], v['test']['HR@10'], v.get('best_epoch'), v.get('epochs')) for k,v in r.entries.items()}), r.weights, flush=True)
for n, m in r.models.items():
    m.save(OUT / n)
np.save(OUT / 'emb.npy', prep.embeddings)
(OUT / 'weights.json').write_text(json.dumps(r.weights))
