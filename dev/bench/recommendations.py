"""Recommendations: start-up, training and read figures on a synthetic catalog, each beside a baseline.

    dev/with-stack-env python -m dev.bench.recommendations [--products 2000] [--orders 20000] [--requests 1000]
        [--content-scale 20000] [--compare-at-scale]

It builds its own shop in a scratch schema of the stack's database (`bench_recommendations`) and in
Redis database 15, so it changes nothing anyone else reads, and drops both at the end (--keep
leaves them). Orders come in themes (a kettle with mugs and tea), plus best-sellers that land in
many baskets and some noise; 10% of them are held out to score the lists. Product texts come from
the same themes (synthetic_text): most names of a theme share its noun, descriptions mix words of
the theme, of the category and of the whole catalog, with noise (a tenth of them empty, some a
word of another theme, some a one-off typo). The text is therefore informative by construction:
the content figures show what the model recovers of such a signal and how it ranks against
category-popular, not what a real catalog would give.

1. start-up: import of recommendations/main.py (what every target of the image loads), and what
   the first training adds (numpy + scipy.sparse, then scikit-learn's TfidfVectorizer); launch ->
   first 200 of both targets; the first training of a fresh process against warm ones.
2. training: POST /internal/recommendations/train (its timings split co-purchase and content
   model), beside the baseline computing every list in SQL (one window query over the
   co-purchase counts) and beside scikit-learn's cosine_similarity over the (order x product)
   matrix, which gives the same scores but needs every order. The content search beside
   scikit-learn's NearestNeighbors(metric="cosine") and linear_kernel over the same TF-IDF, and
   the content model alone on --content-scale products in a fresh process (time, peak memory).
3. reads: recommendations_get over HTTP (Redis; Redis down -> PostgreSQL), and in process, beside
   the baseline: the plain SQL co-occurrence top-N query (and that query with the same live/stock
   filter the function applies).
4. quality: hit rate of the top 10 on held-out orders, cosine model against raw counts; for the
   cold start, content-similar against category-popular (every product as if nobody had bought
   it with others); and the lists as served, blended, against co-purchase then category-popular.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import redis

from dev.bench.functions import free_port, row, timed

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"
SCHEMA = "bench_recommendations"
REDIS_DB = 15
MAIN = FUNCTIONS / "recommendations" / "main.py"
BASELINE = "SELECT other_id::text, orders FROM copurchases WHERE product_id = %s ORDER BY orders DESC, other_id LIMIT %s"
BASELINE_FILTERED = ("SELECT c.other_id::text, c.orders FROM copurchases c JOIN products p ON p.id = c.other_id"
                     " AND p.deleted_at IS NULL LEFT JOIN inventory i ON i.product_id = p.id"
                     " WHERE c.product_id = %s AND (i.available IS NULL OR i.available > 0)"
                     " ORDER BY c.orders DESC, c.other_id LIMIT %s")


def scratch_env() -> dict[str, str]:
    url = os.environ["DATABASE_URL"]
    database = url + ("&" if "?" in url else "?") + f"options=-csearch_path%3D{SCHEMA}"
    cache = os.environ["REDIS_URL"].rsplit("/", 1)[0] + f"/{REDIS_DB}"
    return {"DATABASE_URL": database, "REDIS_URL": cache}


def synthetic(products: int, orders: int, seed: int = 11) -> tuple[list[tuple[str, str, str, str]], list[list[str]]]:
    """(id, category, name, description) of each product, and orders as lists of product ids."""
    rng = random.Random(seed)
    ids = sorted(str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(products))
    rng.shuffle(ids)
    categories = [f"bench-{i * 20 // products:02d}" for i in range(products)]
    themes = [ids[start:start + 10] for start in range(0, products, 10)]  # 10 neighbours, one category
    texts = synthetic_text(themes, categories[::10], seed)
    catalog = [(product_id, category, *texts[product_id]) for product_id, category in zip(ids, categories)]
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(themes))]
    best_sellers = sorted(best_sellers_of(ids))
    baskets = []
    for _ in range(orders):
        theme = rng.choices(themes, weights)[0]
        basket = set(rng.sample(theme, min(len(theme), rng.choice((2, 2, 3, 3, 4)))))
        if rng.random() < 0.4:
            basket.add(rng.choice(best_sellers))
        if rng.random() < 0.2:
            basket.add(rng.choice(ids))
        baskets.append(sorted(basket))
    return catalog, baskets


def synthetic_text(themes: list[list[str]], theme_categories: list[str], seed: int) -> dict[str, tuple[str, str]]:
    """(name, description) of each product from made-up words: its theme's noun (in 70% of the
    names; the others take one of the category's), theme, category and catalog-wide words."""
    rng = random.Random(seed + 1)
    syllables = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]

    def word(parts: int = 3) -> str:
        return "".join(rng.choice(syllables) for _ in range(parts))

    adjectives, common = [word(2) for _ in range(30)], [word() for _ in range(300)]
    category_words = {c: [word() for _ in range(12)] for c in sorted(set(theme_categories))}
    texts = {}
    for theme, category in zip(themes, theme_categories):
        noun, attributes = word(), [word() for _ in range(4)]
        for product_id in theme:
            own_noun = noun if rng.random() < 0.7 else rng.choice(category_words[category])
            name = f"{rng.choice(adjectives).title()} {own_noun.title()}"
            words = (rng.sample(attributes, rng.randint(1, 3)) + rng.sample(category_words[category], 2)
                     + rng.sample(common, rng.randint(1, 4)))
            if rng.random() < 0.3:
                words.append(rng.choice(common[:50]))  # a word many products have
            if rng.random() < 0.3:
                words.append(word())  # a one-off word: a typo, a model number
            rng.shuffle(words)
            description = "" if rng.random() < 0.1 else f"A {own_noun} with {', '.join(words)}, for the {category}."
            texts[product_id] = (name, description)
    return texts


def best_sellers_of(ids: list[str]) -> set[str]:
    """20 products spread over the catalog that land in many baskets (a charger, batteries)."""
    return set(ids[:: max(1, len(ids) // 20)][:20])


def best_sellers(catalog) -> set[str]:
    return best_sellers_of([product[0] for product in catalog])


def build_world(catalog, baskets, env, admin_url: str) -> None:
    from fnkit import db
    from fnkit.migrate import apply_all
    from recommendations import store
    from recommendations.pairs import pairs, products_of

    admin = psycopg2.connect(admin_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}")
    admin.close()
    os.environ.update(env)
    apply_all()
    with db.transaction() as cur:
        cur.execute("INSERT INTO products (id, sku, name, description, category, price_minor, currency)"
                    " SELECT id, 'BENCH-' || n, name, description, category, 1000 + n, 'EUR'"
                    " FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::text[])"
                    "  WITH ORDINALITY AS t(id, category, name, description, n)",
                    tuple(list(column) for column in zip(*catalog)))
    started = time.perf_counter()
    for start in range(0, len(baskets), 500):  # the consumer's own SQL, 500 orders a transaction
        with db.transaction() as cur:
            for basket in baskets[start:start + 500]:
                products = products_of([{"product_id": p} for p in basket])
                store.count_order(cur, products, pairs(products))
    print(f"  recorded {len(baskets)} paid orders with the consumer's SQL in {time.perf_counter() - started:.1f} s")
    with db.transaction() as cur:
        cur.execute("ANALYZE")  # what autovacuum does to a table this size soon after; plans need the statistics


class Function:
    """One target as a real functions-framework process (as the integration tests run them)."""

    def __init__(self, target: str, env: dict[str, str], run_dir: Path):
        self.port = free_port()
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "functions_framework", "--target", target, "--source", str(MAIN),
             "--host", "127.0.0.1", "--port", str(self.port)],
            env={**os.environ, **env, "PYTHONPATH": str(FUNCTIONS), "FUNCTION_TARGET": target,
                 "XDG_RUNTIME_DIR": str(run_dir), "LOG_LEVEL": "WARNING"},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.ready_ms = self._wait()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)

    def _wait(self) -> float:
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return (time.perf_counter() - self.started) * 1000
            except OSError:
                time.sleep(0.005)
            if self.process.poll() is not None:
                raise RuntimeError(f"function exited with {self.process.returncode}")

    def call(self, method: str, path: str) -> tuple[int, dict]:
        self.conn.request(method, path, body=b"{}" if method == "POST" else None,
                          headers={"Content-Type": "application/json"})
        response = self.conn.getresponse()
        return response.status, json.loads(response.read())

    def peak_rss_mb(self) -> float:
        """Peak resident memory of the gunicorn worker (the master's child)."""
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
            peaks = [int(line.split()[1]) for pid in children or [str(self.process.pid)]
                     for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmHWM")]
        except OSError:
            return float("nan")
        return max(peaks) / 1024

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait()


def fresh_import_ms(code: str, rounds: int) -> float:
    """Median wall time of `code` in a fresh interpreter (it prints its own figure)."""
    env = {**os.environ, "PYTHONPATH": str(FUNCTIONS)}
    return statistics.median(float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                                  check=True).stdout) for _ in range(rounds))


def timing(statement: str) -> str:
    return f"import time; t = time.perf_counter(); {statement}; print((time.perf_counter() - t) * 1000)"


def startup(env: dict[str, str], run_dir: Path, rounds: int) -> None:
    print(f"\n1. start-up (median of {rounds}):")
    main_ms = fresh_import_ms(timing("import recommendations.main"), rounds)
    row("import recommendations/main.py (every target)", main_ms)
    row("  + numpy, scipy.sparse (first training only)", fresh_import_ms(
        "import recommendations.main; " + timing("import numpy, scipy.sparse"), rounds))
    row("  + scikit-learn TfidfVectorizer (first training only)", fresh_import_ms(
        "import recommendations.main, numpy, scipy.sparse; " + timing("import sklearn.feature_extraction.text"), rounds))
    for target in ("recommendations_get", "recommendations_train"):
        samples = []
        for _ in range(rounds):
            function = Function(target, env, run_dir)
            samples.append(function.ready_ms)
            function.stop()
        row(f"{target}: launch -> first 200", statistics.median(samples))


def training(env: dict[str, str], run_dir: Path, rounds: int, size: int) -> None:
    print(f"\n2. training ({rounds} runs after the first; the model keeps {size} neighbours a product):")
    function = Function("recommendations_train", env, run_dir)
    try:
        runs = []
        for _ in range(rounds + 1):
            started = time.perf_counter()
            status, summary = function.call("POST", "/internal/recommendations/train")
            assert status == 200, summary
            runs.append(((time.perf_counter() - started) * 1000, summary))
        first_ms, first = runs[0]
        print(f"  model: {first['products']} products with neighbours, {first['pairs']} pairs, "
              f"{first['neighbours']} neighbours, {first['categories']} categories")
        print(f"  content: {first['content_products']} products with neighbours, {first['content_neighbours']} "
              f"neighbours, {first['content_terms']} terms")
        row("first run of a fresh process (imports numpy/scipy/sklearn)", first_ms)
        print(f"    {first['timings_ms']}")
        warm = sorted(ms for ms, _ in runs[1:])
        row("recommendations_train, warm", statistics.median(warm), warm[-1])
        print(f"    {runs[-1][1]['timings_ms']}")
        print(f"  peak RSS of the training worker: {function.peak_rss_mb():.0f} MB")
    finally:
        function.stop()

    pg = psycopg2.connect(env["DATABASE_URL"])
    with pg.cursor() as cur:
        def all_lists_in_sql() -> None:
            cur.execute("SELECT product_id, other_id, orders FROM (SELECT *, row_number() OVER ("
                        " PARTITION BY product_id ORDER BY orders DESC, other_id) AS rank FROM copurchases) ranked"
                        " WHERE rank <= %s", (size,))
            cur.fetchall()
        row("baseline: every top-N list in one SQL window query", *timed(all_lists_in_sql, rounds))
    pg.close()


def sklearn_reference(baskets: list[list[str]], size: int, model) -> None:
    started = time.perf_counter()
    import numpy as np
    from scipy import sparse
    from sklearn.metrics.pairwise import cosine_similarity
    imported = time.perf_counter()
    ids = sorted({p for basket in baskets for p in basket})
    column = {p: i for i, p in enumerate(ids)}
    rows = [o for o, basket in enumerate(baskets) for _ in basket]
    cols = [column[p] for basket in baskets for p in basket]
    x = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(baskets), len(ids)))
    similarity = cosine_similarity(x.T, dense_output=False).tocsr()
    similarity.setdiag(0)
    similarity.eliminate_zeros()
    same = 0
    for i, product_id in enumerate(ids):
        start, end = similarity.indptr[i], similarity.indptr[i + 1]
        ranked = sorted(zip(-np.round(similarity.data[start:end], 12), (ids[j] for j in similarity.indices[start:end])))
        same += [p for _, p in ranked[:10]] == [n.product_id for n in model.get(product_id, ())[:10]]
    done = time.perf_counter()
    row("scikit-learn cosine_similarity(X.T), X = orders x products", (done - imported) * 1000)
    print(f"    (+ {(imported - started) * 1000:.0f} ms to import it; its top 10 equals the model's for "
          f"{same} of {len(ids)} products)")


def documents(catalog) -> list:
    from recommendations.content import Document

    return [Document(product_id, name, category, description) for product_id, category, name, description in catalog]


def content_search(catalog, size: int, min_score: float, rounds: int) -> None:
    """The content model's neighbour search beside scikit-learn's, over the same TF-IDF."""
    from sklearn.metrics.pairwise import linear_kernel
    from sklearn.neighbors import NearestNeighbors

    from recommendations import content

    docs = documents(catalog)
    vectors = content.vectorize(docs)
    matrix, floor, transposed = vectors.matrix, round(min_score * 1_000_000), vectors.matrix.T.tocsr()
    rows = max(1, content._BLOCK_SCORES // matrix.shape[0])

    def blocks(product):  # the model's top-N over every block of rows, the block's scores from `product`
        return lambda: [list(content._top(product(start), start, size, floor)) for start in range(0, len(docs), rows)]

    print(f"  content model, {len(docs)} products, {vectors.terms} terms, top {size} with cosine >= {min_score}:")
    row("TfidfVectorizer fit_transform (content.vectorize)", *timed(lambda: content.vectorize(docs), rounds))
    row("content.nearest (search + lists; GC on, unlike training)", *timed(
        lambda: content.nearest(vectors, size, min_score), rounds))
    row("  search: blocks of X @ X.T + top-N (nearest's)", *timed(
        blocks(lambda start: matrix[start:start + rows] @ transposed), rounds))
    row("  search: the same through linear_kernel", *timed(
        blocks(lambda start: linear_kernel(matrix[start:start + rows], matrix, dense_output=False)), rounds))
    row("  search: NearestNeighbors(metric='cosine')", *timed(
        lambda: NearestNeighbors(n_neighbors=size + 1, metric="cosine").fit(matrix).kneighbors(matrix), rounds))


def content_at_scale(products: int, size: int, min_score: float, compare: bool) -> None:
    """The content model alone on a synthetic catalog, in this (fresh) process: prints JSON."""
    import resource

    import sklearn.feature_extraction.text  # noqa: F401 (imported before the clock starts: timed apart)
    from recommendations import content

    def peak_mb() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    docs = documents(synthetic(products, 0)[0])
    rss = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmRSS"))
    figures = {"before_mb": int(rss.split()[1]) / 1024}
    started = time.perf_counter()
    vectors = content.vectorize(docs)
    vectorized = time.perf_counter()
    model = content.nearest(vectors, size, min_score)
    figures.update(vectorize_ms=(vectorized - started) * 1000, search_ms=(time.perf_counter() - vectorized) * 1000,
                   peak_mb=peak_mb(), terms=vectors.terms, neighbours=sum(map(len, model.values())))
    if compare:
        from sklearn.neighbors import NearestNeighbors

        started = time.perf_counter()
        NearestNeighbors(n_neighbors=size + 1, metric="cosine").fit(vectors.matrix).kneighbors(vectors.matrix)
        figures.update(nearest_neighbors_ms=(time.perf_counter() - started) * 1000, nearest_neighbors_peak_mb=peak_mb())
    print(json.dumps(figures))


def content_scale(products: int, size: int, min_score: float, compare: bool) -> None:
    code = (f"from dev.bench.recommendations import content_at_scale; "
            f"content_at_scale({products}, {size}, {min_score}, {compare})")
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": f"{ROOT}:{FUNCTIONS}"},
                         capture_output=True, text=True, check=True).stdout
    figures = json.loads(out)
    print(f"  content model alone, {products} products in a fresh process ({figures['terms']} terms, "
          f"{figures['neighbours']} neighbours):")
    row("TfidfVectorizer fit_transform", figures["vectorize_ms"])
    row("content.nearest (search + lists; GC on)", figures["search_ms"])
    print(f"    peak RSS {figures['peak_mb']:.0f} MB (RSS {figures['before_mb']:.0f} MB before the model: "
          f"interpreter, scikit-learn, the texts)")
    if compare:
        row("NearestNeighbors(metric='cosine').kneighbors", figures["nearest_neighbors_ms"])
        print(f"    peak RSS after it {figures['nearest_neighbors_peak_mb']:.0f} MB")


def reads(env: dict[str, str], run_dir: Path, catalog, requests: int, limit: int) -> None:
    from fnkit import db
    from recommendations import serving

    print(f"\n3. reads, one product at random each, limit={limit} ({requests} requests each, keep-alive):")
    rng = random.Random(5)
    sample = [rng.choice(catalog)[0] for _ in range(requests)]
    pg = psycopg2.connect(env["DATABASE_URL"])
    pg.autocommit = True

    def by_turns(call):
        turn = iter(sample * 2)
        return lambda: call(next(turn))

    def plain(product_id):
        with pg.cursor() as cur:
            cur.execute(BASELINE, (product_id, limit))
            cur.fetchall()

    def filtered(product_id):
        with pg.cursor() as cur:
            cur.execute(BASELINE_FILTERED, (product_id, limit))
            cur.fetchall()

    row("baseline: plain SQL co-occurrence top-N", *timed(by_turns(plain), requests))
    row("baseline + live/stock filter", *timed(by_turns(filtered), requests))
    row("serving.recommend in process, Redis", *timed(by_turns(lambda p: serving.recommend(p, limit)), requests))
    with redis_unused(serving):
        row("serving.recommend in process, PostgreSQL only",
            *timed(by_turns(lambda p: serving.recommend(p, limit)), requests))
    db.reset_pool()
    pg.close()

    down = {**env, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    for name, function_env in (("Redis", env), ("Redis down -> PostgreSQL", down)):
        function = Function("recommendations_get", function_env, run_dir)
        try:
            def get(product_id):
                status, _ = function.call("GET", f"/api/recommendations/{product_id}?limit={limit}")
                assert status == 200, status
            get(sample[0])
            row(f"recommendations_get over HTTP, {name}", *timed(by_turns(get), requests))
        finally:
            function.stop()


@contextmanager
def redis_unused(serving):
    """The read path as it runs when the model is not in Redis (a miss), without stopping Redis."""
    lists = serving.model_cache.lists
    serving.model_cache.lists = lambda *_: None
    try:
        yield
    finally:
        serving.model_cache.lists = lists


def quality(purchases, pairs, held_out: list[list[str]], model, best_sellers: set[str], catalog, similar) -> None:
    together: dict[str, list[tuple[int, str]]] = {}
    for a, b, n in pairs:
        together.setdefault(a, []).append((-n, b))
        together.setdefault(b, []).append((-n, a))
    raw = {p: [other for _, other in sorted(others)[:10]] for p, others in together.items()}
    cosine = {p: [n.product_id for n in neighbours[:10]] for p, neighbours in model.items()}
    print(f"\n4. quality: a held-out order's other products in the top 10 ({len(held_out)} orders):")
    for name, lists in (("baseline: raw co-purchase counts", raw), ("cosine model", cosine)):
        hit_rate(name, held_out, lists, best_sellers, only_listed=True)

    # The cold start: every product as if nobody had bought it with others, so every lookup counts.
    category_of = {product[0]: product[1] for product in catalog}
    by_category: dict[str, list[tuple[int, str]]] = {}
    for product_id, category in category_of.items():  # the training's order: most bought, then id
        by_category.setdefault(category, []).append((-purchases.get(product_id, 0), product_id))
    ranked = {category: [p for _, p in sorted(products)[:11]] for category, products in by_category.items()}
    popular = {p: [other for other in ranked[category_of[p]] if other != p][:10] for p in category_of}
    content = {p: [n.product_id for n in neighbours[:10]] for p, neighbours in similar.items()}
    print("  cold start (no co-purchase data used):")
    hit_rate("baseline: category-popular", held_out, popular, best_sellers)
    hit_rate("content-similar (TF-IDF)", held_out, content, best_sellers)
    blended = {p: fill(content.get(p, []), popular[p]) for p in category_of}
    hit_rate("content-similar, then category-popular", held_out, blended, best_sellers)
    print("  as served (co-purchase lists filled up to 10):")
    hit_rate("baseline: co-purchase, then category-popular", held_out,
             {p: fill(cosine.get(p, []), popular[p]) for p in category_of}, best_sellers)
    hit_rate("co-purchase, content-similar, category-popular", held_out,
             {p: fill(cosine.get(p, []), content.get(p, []), popular[p]) for p in category_of}, best_sellers)


def fill(*lists: list[str]) -> list[str]:
    """The first 10 of the lists in order, each product once (what blend.candidates does)."""
    return list(dict.fromkeys(p for listed in lists for p in listed))[:10]


def hit_rate(name: str, held_out: list[list[str]], lists: dict[str, list[str]], best_sellers: set[str],
             only_listed: bool = False) -> None:
    """How often a product's list holds another product of its held-out order; with only_listed,
    among products that have a list, otherwise among all (no list is a miss)."""
    hits = tries = 0
    for basket in (b for b in held_out if len(b) > 1):
        for product in basket:
            if product in lists or not only_listed:
                tries += 1
                hits += bool(set(lists.get(product, ())) & (set(basket) - {product}))
    slots = [p for listed in lists.values() for p in listed]
    share = sum(p in best_sellers for p in slots) / max(len(slots), 1)
    print(f"  {name:<48} hit rate {hits / max(tries, 1):6.1%} ({tries} lookups); "
          f"best-sellers fill {share:5.1%} of the list places")


def cleanup(env: dict[str, str], admin_url: str) -> None:
    from fnkit import db

    db.reset_pool()
    admin = psycopg2.connect(admin_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    admin.close()
    client = redis.Redis.from_url(env["REDIS_URL"])
    keys = list(client.scan_iter("recommendations:model:*"))
    if keys:
        client.delete(*keys)
    client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--orders", type=int, default=20000)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--content-scale", type=int, default=20000, help="products of the content model run alone")
    parser.add_argument("--compare-at-scale", action="store_true",
                        help="also time NearestNeighbors at --content-scale (20,000: 15 s, 2.5 GB)")
    parser.add_argument("--keep", action="store_true", help="leave the scratch schema and Redis keys")
    args = parser.parse_args()
    sys.path.insert(0, str(FUNCTIONS))
    admin_url = os.environ["DATABASE_URL"]
    env = scratch_env()
    run_dir = Path(tempfile.mkdtemp(prefix="fnshop-bench-rec-"))
    catalog, baskets = synthetic(args.products, args.orders)
    cut = len(baskets) * 9 // 10
    print(f"synthetic shop: {args.products} products in 20 categories, {cut} paid orders (+{len(baskets) - cut} held out)")
    try:
        build_world(catalog, baskets[:cut], env, admin_url)
        from fnkit import db
        from fnkit.config import env_float, env_int
        from recommendations import model_store
        from recommendations.content import similar_content
        from recommendations.model import similar_products

        size = env_int("RECOMMENDATIONS_MODEL_SIZE")
        content_size, min_score = env_int("RECOMMENDATIONS_CONTENT_SIZE"), env_float("RECOMMENDATIONS_CONTENT_MIN_SCORE")
        with db.transaction() as cur:
            purchases, pairs = model_store.copurchase_counts(cur)
        model = similar_products(purchases, pairs, size)
        similar = similar_content(documents(catalog), content_size, min_score)
        startup(env, run_dir, args.rounds)
        training(env, run_dir, args.rounds, size)
        sklearn_reference(baskets[:cut], size, model)
        content_search(catalog, content_size, min_score, args.rounds)
        if args.content_scale:
            content_scale(args.content_scale, content_size, min_score, args.compare_at_scale)
        reads(env, run_dir, catalog, args.requests, limit=10)
        quality(purchases, pairs, baskets[cut:], model, best_sellers(catalog), catalog, similar)
    finally:
        if not args.keep:
            cleanup(env, admin_url)


if __name__ == "__main__":
    main()
