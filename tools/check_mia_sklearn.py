#!/usr/bin/env python3
"""The MIA fixture: scikit-learn's answers for the two membership-inference attacks of
unlearn/metrics.cpp, on small deterministic inputs, written to tests/golden/mia_fixture.json and
compared with our C++ by tests/unlearn/test_metrics.cpp (MetricsGolden.*).

  MIA-I  (Jia et al. 2023 / SalUn SVC_MIA): SVC(C=3, gamma="auto", kernel="rbf") fitted on
         [members; non-members] with labels [1...; 0...], predictions on the targets, the share of
         targets predicted non-member, and the attack's accuracy on its own training set.
  MIA-II (SCRUB / the reference paper's MIA2.py): LogisticRegression() on np.clip(losses, -100,
         100) with features = [negatives; positives], labels [0...; 1...], the 5 splits of
         StratifiedShuffleSplit(n_splits=5, random_state=SEED) (test share 0.1), accuracy per
         split. The splits' test indices are stored so that the C++ runs the same splits.

Exactness guard: scikit-learn's default lbfgs stops at tol 1e-4, our Newton solver at the exact
optimum. The script refits every split with solver="newton-cg", tol=1e-12 (the exact optimum:
gradient ~1e-13; lbfgs even at tol 1e-12 stops ~1e-6 short because of its ftol), asserts that the
default and the exact fit predict every test row the same way (so the C++ must reproduce the
stored accuracies exactly), and stores the exact coefficients for a 1e-9 comparison. For the SVC
it stores min |decision| over the targets (how far the closest target is from the boundary).

Usage (Debian's python3-sklearn, /usr/bin/python3):
  /usr/bin/python3 tools/check_mia_sklearn.py            # (re)write the fixture
  /usr/bin/python3 tools/check_mia_sklearn.py --check    # recompute from the stored inputs and
                                                         # compare with the committed file
Exit status: 0 = OK, 1 = mismatch, 2 = usage or environment error.
"""
import argparse
import json
import os
import sys
import warnings

try:
    import numpy as np
    import sklearn
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedShuffleSplit, cross_val_score
    from sklearn.svm import SVC
except ImportError as e:  # pragma: no cover
    print(f"error: needs numpy and scikit-learn (apt-get install python3-sklearn): {e}",
          file=sys.stderr)
    sys.exit(2)

SEED = 42          # the split seed (SCRUB and the reference paper call the attack with seed 42)
DATA_SEED = 20260519
N_MEMBERS, N_NON_MEMBERS, N_TARGETS = 300, 300, 200
N_POSITIVE, N_NEGATIVE = 200, 200
DIGITS = 6         # inputs are rounded, so the JSON text is exactly what both sides use
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "tests", "golden", "mia_fixture.json")


def make_inputs():
    """Deterministic inputs: confidences from Beta distributions, losses from exponentials."""
    rng = np.random.default_rng(DATA_SEED)
    r = lambda a: [round(float(v), DIGITS) for v in a]
    members = r(rng.beta(6.0, 1.2, N_MEMBERS))       # retain-train: confident
    non_members = r(rng.beta(3.0, 1.5, N_NON_MEMBERS))  # test: less confident
    targets = r(rng.beta(4.0, 1.5, N_TARGETS))       # forget-train after unlearning: in between
    positive = r(rng.exponential(0.5, N_POSITIVE))    # forget-train losses
    negative = r(rng.exponential(1.5, N_NEGATIVE))    # forget-class test losses
    negative[7] = 150.0  # one loss above the clip bound (exercises np.clip(.., -100, 100))
    return dict(members=members, non_members=non_members, targets=targets, positive=positive,
                negative=negative)


def svc_outputs(inp):
    m, nm, t = (np.asarray(inp[k], dtype=np.float64) for k in ("members", "non_members", "targets"))
    x = np.concatenate([m, nm]).reshape(-1, 1)
    y = np.concatenate([np.ones(len(m)), np.zeros(len(nm))])
    clf = SVC(C=3, gamma="auto", kernel="rbf").fit(x, y)
    pred = clf.predict(t.reshape(-1, 1))
    decision = clf.decision_function(t.reshape(-1, 1))
    return dict(
        c=3.0, gamma=1.0 / x.shape[1], tol=1e-3,
        target_member=[int(v) for v in pred],
        non_member_share=float(1.0 - pred.mean()),
        train_accuracy=float(clf.score(x, y)),
        support_vectors=[int(v) for v in clf.n_support_],
        min_abs_decision=float(np.min(np.abs(decision))),
    )


def logreg_outputs(inp, test_indices=None):
    pos = np.asarray(inp["positive"], dtype=np.float64)
    neg = np.asarray(inp["negative"], dtype=np.float64)
    features = np.clip(np.concatenate([neg, pos]), -100, 100).reshape(-1, 1)
    labels = np.concatenate([np.zeros(len(neg), dtype=int), np.ones(len(pos), dtype=int)])
    n = len(labels)
    if test_indices is None:
        cv = StratifiedShuffleSplit(n_splits=5, random_state=SEED)
        test_indices = [te for _, te in cv.split(features, labels)]
    # Both index lists ascending (the C++ side's order), so that writing and --check fit on the
    # same row order (the summation order moves the exact fit in its last digits).
    splits = []
    for te in test_indices:
        te = np.sort(np.asarray(te, dtype=int))
        splits.append((np.setdiff1d(np.arange(n), te), te))
    scores = cross_val_score(LogisticRegression(), features, labels, cv=splits,
                             scoring="accuracy")
    coefficients, min_margin = [], np.inf
    for tr, te in splits:
        default = LogisticRegression().fit(features[tr], labels[tr])
        with warnings.catch_warnings():  # newton-cg's line search at the optimum's precision
            warnings.simplefilter("ignore")
            tight = LogisticRegression(solver="newton-cg", tol=1e-12, max_iter=100000).fit(
                features[tr], labels[tr])
        same = np.array_equal(default.predict(features[te]), tight.predict(features[te]))
        if not same:
            raise SystemExit("error: the default and the tight logistic fit disagree on a test "
                             "row; change DATA_SEED so that no test row is borderline")
        w, b = float(tight.coef_[0, 0]), float(tight.intercept_[0])
        coefficients.append([w, b])
        min_margin = min(min_margin, float(np.min(np.abs(w * features[te, 0] + b))))
    return dict(
        seed=SEED, test_share=0.1, c=1.0, clip=100.0,
        test_indices=[[int(i) for i in te] for _, te in splits],
        scores=[float(s) for s in scores],
        mean=float(np.mean(scores)), std=float(np.std(scores)),
        coefficients=coefficients,
        min_abs_decision=min_margin,
    )


def build(inp, test_indices=None):
    return dict(
        about=("MIA fixture for tests/unlearn/test_metrics.cpp, written by "
               "tools/check_mia_sklearn.py; regenerate by hand only"),
        versions=dict(sklearn=sklearn.__version__, numpy=np.__version__),
        data_seed=DATA_SEED,
        inputs=inp,
        svc=svc_outputs(inp),
        logreg=logreg_outputs(inp, test_indices),
    )


def dumps(obj):
    """JSON with one key per line and every list on a single line (small, diff-friendly)."""
    def fmt(v, indent):
        pad = " " * indent
        if isinstance(v, dict):
            items = [f'{pad}  {json.dumps(k)}: {fmt(x, indent + 2)}' for k, x in v.items()]
            return "{\n" + ",\n".join(items) + "\n" + pad + "}"
        return json.dumps(v, separators=(",", ":"), allow_nan=False)
    return fmt(obj, 0) + "\n"


def compare(ref, got, path=""):
    """Lists of differences between two JSON values (floats within 1e-10 relative)."""
    diffs = []
    if isinstance(ref, dict) and isinstance(got, dict):
        for k in sorted(set(ref) | set(got)):
            if k == "versions":
                continue
            if k not in ref or k not in got:
                diffs.append(f"{path}/{k}: present on one side only")
            else:
                diffs += compare(ref[k], got[k], f"{path}/{k}")
    elif isinstance(ref, list) and isinstance(got, list):
        if len(ref) != len(got):
            diffs.append(f"{path}: length {len(ref)} vs {len(got)}")
        else:
            for i, (a, b) in enumerate(zip(ref, got)):
                diffs += compare(a, b, f"{path}[{i}]")
    elif isinstance(ref, (int, float)) and isinstance(got, (int, float)):
        if abs(ref - got) > 1e-10 * max(1.0, abs(ref)):
            diffs.append(f"{path}: committed {ref!r}, recomputed {got!r}")
    elif ref != got:
        diffs.append(f"{path}: committed {ref!r}, recomputed {got!r}")
    return diffs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="recompute scikit-learn's outputs from the committed inputs and splits "
                         "and compare; writes nothing")
    ap.add_argument("--out", default=DEFAULT_OUT, help="fixture path (default: %(default)s)")
    args = ap.parse_args()
    out = os.path.normpath(args.out)

    if not args.check:
        text = dumps(build(make_inputs()))
        tmp = out + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, out)
        print(f"wrote {out} ({len(text)} bytes)")
        return 0

    try:
        with open(out) as f:
            ref = json.load(f)
    except (OSError, ValueError) as e:
        print(f"error: cannot read {out}: {e}", file=sys.stderr)
        return 2
    regenerated = make_inputs() == ref["inputs"]
    got = build(ref["inputs"], ref["logreg"]["test_indices"])
    # The stored splits must also be the ones StratifiedShuffleSplit(random_state=SEED) draws.
    fresh_splits = logreg_outputs(ref["inputs"])["test_indices"]
    diffs = compare(ref, got)
    if fresh_splits != ref["logreg"]["test_indices"]:
        diffs.append("/logreg/test_indices: StratifiedShuffleSplit now draws other splits")
    print(f"fixture: {out}")
    print(f"scikit-learn {sklearn.__version__} (fixture written with "
          f"{ref['versions']['sklearn']}), numpy {np.__version__}")
    print(f"inputs regenerate identically from DATA_SEED: {'yes' if regenerated else 'NO'}")
    print(f"MIA-I : non-member share {got['svc']['non_member_share']:.6f}, train accuracy "
          f"{got['svc']['train_accuracy']:.6f}, support vectors {got['svc']['support_vectors']}, "
          f"min |decision| on targets {got['svc']['min_abs_decision']:.3g}")
    print(f"MIA-II: scores {got['logreg']['scores']}, mean {got['logreg']['mean']:.6f}, std "
          f"{got['logreg']['std']:.6f}, min |decision| on test rows "
          f"{got['logreg']['min_abs_decision']:.3g}")
    if diffs:
        print(f"MISMATCH ({len(diffs)}):")
        for d in diffs[:20]:
            print("  " + d)
        return 1
    print("OK: the committed fixture matches scikit-learn")
    return 0


if __name__ == "__main__":
    sys.exit(main())
