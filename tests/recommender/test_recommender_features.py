"""Training and serving compute the same signals: the bulk pair path used in ``fit`` agrees with
the one-profile path used by ``score`` (a mismatch would train the combiner on different inputs
from the ones it sees in production)."""

from __future__ import annotations

import numpy as np

from recommender.features import Examples, pair_features, profile_features


def test_pair_and_profile_features_agree(model, academy):
    ctx = model.context_
    n = ctx.n_items
    rng = np.random.default_rng(0)
    histories = [rng.choice(n, size, replace=False) for size in (0, 1, 4, 17)]
    dismissed = [np.array([], dtype=np.int64), rng.choice(n, 2, replace=False), np.array([3]), np.array([], dtype=np.int64)]
    groups = model.groups_
    rows = []
    for k, hist in enumerate(histories):
        occ, band, age_bin = k % (groups.n_occ + 1), k % groups.n_band, 5 + k
        attr = [k % (len(values) + 1) for _, values in model.attributes_]
        rows.append((hist, occ, band, age_bin, attr, k % (len(model.occ_rows_) + 1), dismissed[k]))
    ex = Examples(
        hist_ptr=np.concatenate([[0], np.cumsum([len(r[0]) for r in rows])]),
        hist_items=np.concatenate([r[0] for r in rows]).astype(np.int64),
        group=np.array([groups.group(r[1], r[2]) for r in rows]),
        occ_bucket=np.array([r[1] for r in rows]), band=np.array([r[2] for r in rows]),
        age_bin=np.array([r[3] for r in rows]),
        attr_codes=np.array([r[4] for r in rows]).reshape(len(rows), -1),
        occ_row=np.array([r[5] for r in rows]),
        dis_ptr=np.concatenate([[0], np.cumsum([len(r[6]) for r in rows])]),
        dis_items=np.concatenate([r[6] for r in rows]).astype(np.int64),
    )
    ctx.features = ctx.features + ("dismiss_sim",)      # exercise the dismissal feature too
    try:
        pairs_ex = np.repeat(np.arange(len(rows)), n)
        pairs_item = np.tile(np.arange(n), len(rows))
        bulk = pair_features(ctx, ex, pairs_ex, pairs_item, chunk_entries=500)
        for k, (hist, occ, band, age_bin, attr, occ_row, dis) in enumerate(rows):
            one = profile_features(ctx, hist, int(ex.group[k]), occ, band, age_bin, attr,
                                   ctx.audience_rows[occ_row], ctx.occ_text_rows[occ_row], dis)
            matrix = np.column_stack([one[f] for f in ctx.features])
            assert np.allclose(bulk[k * n:(k + 1) * n], matrix, atol=1e-5), k
    finally:
        ctx.features = ctx.features[:-1]
