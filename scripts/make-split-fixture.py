"""Writes tests/Nabla.Tests/Fixtures/splits.json: scikit-learn's train_test_split indices (plain
and stratified) for several sizes, fractions and seeds, including a table of more than 624 rows
(MT19937 regenerates its state there) and unequal classes whose shares leave ties to break.

Run with Debian's Python and python3-sklearn (apt-get install python3-sklearn):
    /usr/bin/python3 scripts/make-split-fixture.py"""
import json, os
import numpy as np
import sklearn
from sklearn.model_selection import train_test_split

cases = []
for n, fraction, seed in ((12, 0.25, 0), (50, 0.2, 42), (97, 0.33, 7), (700, 0.1, 4294967295), (13, 0.5, 123)):
    train, test = train_test_split(np.arange(n), test_size=fraction, random_state=seed)
    cases.append({"rows": n, "test_size": fraction, "seed": seed, "labels": None, "train": train.tolist(), "test": test.tolist()})

rng = np.random.RandomState(1)
for n, classes, fraction, seed in ((40, 3, 0.25, 3), (101, 4, 0.2, 42), (650, 5, 0.15, 99), (23, 2, 0.4, 2024)):
    # Unequal class sizes: each label drawn with its own weight.
    weights = np.arange(1, classes + 1, dtype=float)
    labels = rng.choice(classes, size=n, p=weights / weights.sum())
    train, test = train_test_split(np.arange(n), test_size=fraction, random_state=seed, stratify=labels)
    cases.append({"rows": n, "test_size": fraction, "seed": seed, "labels": labels.tolist(), "train": train.tolist(), "test": test.tolist()})

# Permutations long enough that the bounded integers need all 17+ mask bits (NumPy's random_interval).
permutations = []
for seed, n in ((5, 70001), (2024, 131075)):
    perm = np.random.RandomState(seed).permutation(n)
    permutations.append({"seed": seed, "rows": n, "head": perm[:12].tolist(), "tail": perm[-12:].tolist(),
                         "weighted_sum_mod_2_31": int(np.sum(perm.astype(np.int64) * np.arange(n, dtype=np.int64)) % (2 ** 31))})

path = os.path.join(os.path.dirname(__file__), "..", "tests", "Nabla.Tests", "Fixtures", "splits.json")
with open(path, "w") as f:
    json.dump({"made_by": "scripts/make-split-fixture.py", "sklearn": sklearn.__version__, "numpy": np.__version__, "cases": cases, "permutations": permutations}, f)
print(f"wrote {os.path.normpath(path)}: {len(cases)} cases")
