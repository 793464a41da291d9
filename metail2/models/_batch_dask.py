"""The batch engine on Dask: the chunks of :func:`~metail2.models.batch.pool_many`
as ``dask.array.map_blocks`` tasks, on any Dask scheduler (the threaded one,
processes, or a ``dask.distributed.Client`` on a cluster).

Imported only on that path: Dask is an optional extra (``pip install
metail2[dask]``). Each block returns its fields stacked as one float array
(:func:`pack`); the results are gathered and unpacked into the same
:class:`~metail2.models.batch.BatchResult` as in-process, number for number.
"""
from __future__ import annotations

import numpy as np

from . import _batch_core as core


def fields(tau2_ci: bool) -> tuple[str, ...]:
    names = core.FLOAT_FIELDS + core.INT_FIELDS + core.BOOL_FIELDS
    return names + core.CI_FIELDS if tau2_ci else names


def pack(part: dict, tau2_ci: bool) -> np.ndarray:
    """A chunk's fields as one (n, F) float array (ints and bools are exact in floats)."""
    return np.stack([np.asarray(part[name], dtype=float) for name in fields(tau2_ci)], axis=1)


def unpack(block: np.ndarray, tau2_ci: bool) -> dict:
    out = {}
    for i, name in enumerate(fields(tau2_ci)):
        col = block[:, i]
        if name in core.BOOL_FIELDS:
            col = col.astype(bool)
        elif name in ("tau2_ci_lower_sign", "tau2_ci_upper_sign"):
            col = col.astype(np.int8)
        out[name] = np.ascontiguousarray(col)
    return out


def _block(y, *rest, v=None, masked, method, test, level, tau2_ci, numerics):
    """One Dask block: y (and v, the mask) are (k, n), n the block's analyses;
    a ``v`` shared by all analyses comes as a keyword, (k, 1), as in-process."""
    if v is None:
        v, rest = rest[0], rest[1:]
    y, v, mm = core.prepare(y, v, rest[0] if masked else None)
    return pack(core.concat(core.fit_columns(y, v, mm, method, test, level, tau2_ci, numerics)), tau2_ci)


def compute(array, scheduler):
    """Compute a Dask array on ``scheduler`` (None: Dask's default, e.g. the
    active distributed Client)."""
    import dask

    (out,) = dask.compute(array, scheduler=scheduler) if scheduler is not None else dask.compute(array)
    return np.asarray(out)


def pool_many_dask(y, v, mask, *, method, test, level, tau2_ci, chunk, scheduler, numerics=None) -> dict:
    """The fields of :class:`~metail2.models.batch.BatchResult`, computed on Dask."""
    import dask.array as da

    def as2d(a, dtype):
        a = da.asarray(a).astype(dtype)
        return a[:, None] if a.ndim == 1 else a

    y = as2d(y, float)
    k, n = y.shape
    chunk = chunk or (y.chunks[1][0] if len(y.chunks[1]) > 1 else 64 * core.default_chunk(k))
    args = [y.rechunk((k, chunk))]
    shared = None
    if np.ndim(v) == 1 or np.shape(v)[1] == 1:
        shared = np.asarray(v, dtype=float).reshape(k, 1)
    else:
        args.append(as2d(v, float).rechunk((k, chunk)))
    if mask is not None:
        args.append(da.broadcast_to(as2d(mask, bool), (k, n)).rechunk((k, chunk)))
    nf = len(fields(tau2_ci))
    out = da.map_blocks(_block, *args, v=shared, masked=mask is not None, method=method, test=test, level=level,
                        tau2_ci=tau2_ci, numerics=numerics, dtype=float, chunks=(args[0].chunks[1], (nf,)), drop_axis=0, new_axis=1)
    return unpack(compute(out, scheduler), tau2_ci)


def _subsets_block(bits, *, y, v, method, test, level, numerics):
    step = core.default_chunk(len(y))
    return pack(core.concat(core.fit_subsets(y, v, bits[s:s + step], method, test, level, numerics)
                            for s in range(0, len(bits), step)), False)


def subsets_dask(y, v, bits, *, method, test, level, chunk, scheduler, numerics=None) -> dict:
    """:func:`~metail2.models.batch.pool_subsets` on Dask: blocks of packed subsets."""
    import dask.array as da

    arr = da.from_array(bits, chunks=(chunk, bits.shape[1]))
    out = da.map_blocks(_subsets_block, arr, y=y, v=v, method=method, test=test, level=level, numerics=numerics,
                        dtype=float, chunks=(arr.chunks[0], (len(fields(False)),)))
    return unpack(compute(out, scheduler), False)
