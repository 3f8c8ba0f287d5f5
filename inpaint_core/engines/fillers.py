"""Pixel-filling algorithms of the classical engine: pure functions on one small crop.

Each filler takes ``image`` (HxWx3 uint8) and ``missing`` (HxW bool, True = fill) and returns a new
HxWx3 uint8 array in which only the missing pixels differ. The values of missing pixels in the input
are never read. The engine (:mod:`.classical`) calls them per connected component of the mask, on a
crop with some context around it, so their cost follows the damage, not the photo.

``sparse_dct`` is the default: a biharmonic first guess refined by iterated hard thresholding of
overlapping block DCTs (Guleryuz, "Nonlinear approximation based image recovery using adaptive sparse
reconstructions", IEEE TIP 2006). Edges and textures crossing a scratch are sparse in a local DCT, so
they are carried across it instead of being smeared as diffusion does (OpenCV's Telea/NS).
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

#: An orthonormal opponent-colour transform: luma + two chroma axes. Thresholding in this space
#: keeps the three channels' edges aligned better than thresholding R, G and B separately.
_OPPONENT = np.array(
    [
        [1 / np.sqrt(3), 1 / np.sqrt(3), 1 / np.sqrt(3)],
        [1 / np.sqrt(2), 0.0, -1 / np.sqrt(2)],
        [1 / np.sqrt(6), -2 / np.sqrt(6), 1 / np.sqrt(6)],
    ],
    dtype=np.float32,
)


def _to_uint8(values: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def _paste(image: np.ndarray, missing: np.ndarray, filled: np.ndarray) -> np.ndarray:
    out = image.copy()
    out[missing] = _to_uint8(filled[missing])
    return out


# -- OpenCV's two methods ------------------------------------------------------------------------
def telea(image: np.ndarray, missing: np.ndarray, radius: int = 3) -> np.ndarray:
    """OpenCV's fast marching method (Telea 2004)."""
    filled = cv2.inpaint(image, missing.astype(np.uint8) * 255, radius, cv2.INPAINT_TELEA)
    return _paste(image, missing, filled)


def navier_stokes(image: np.ndarray, missing: np.ndarray, radius: int = 3) -> np.ndarray:
    """OpenCV's Navier-Stokes based method (Bertalmio et al. 2001)."""
    filled = cv2.inpaint(image, missing.astype(np.uint8) * 255, radius, cv2.INPAINT_NS)
    return _paste(image, missing, filled)


# -- biharmonic ------------------------------------------------------------------------------------
def _biharmonic_float(image: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """Smoothest fill that continues the surrounding gradients: minimise ||Laplacian(u)||^2.

    The normal equations of that least-squares problem are the biharmonic equation at the missing
    pixels. Only the missing pixels and a 2-pixel ring around them enter the sparse system. At the
    crop border the Laplacian uses only the neighbours inside the crop (a graph Laplacian), so a
    mask touching the border needs no padding tricks. Returns float32 HxWx3 (known pixels as given).
    """
    h, w = missing.shape
    out = image.astype(np.float32)
    if missing.all():
        raise ValueError("nothing is known around the missing pixels")
    kernel = np.ones((3, 3), np.uint8)
    # rows: pixels whose Laplacian involves a missing pixel; columns: the pixels those read
    rows_mask = cv2.dilate(missing.astype(np.uint8), kernel).astype(bool)
    cols_mask = cv2.dilate(rows_mask.astype(np.uint8), kernel).astype(bool)
    col_idx = np.full((h, w), -1, np.int64)
    cy, cx = np.nonzero(cols_mask)
    col_idx[cy, cx] = np.arange(cy.size)
    ry, rx = np.nonzero(rows_mask)
    r = np.arange(ry.size)
    data, ri, ci = [], [], []
    degree = np.zeros(ry.size)
    for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        ny, nx = ry + dy, rx + dx
        inside = (ny >= 0) & (ny < h) & (nx >= 0) & (nx < w)
        degree += inside
        ri.append(r[inside])
        ci.append(col_idx[ny[inside], nx[inside]])
        data.append(np.ones(int(inside.sum())))
    ri.append(r)
    ci.append(col_idx[ry, rx])
    data.append(-degree)
    lap = sp.csr_matrix(
        (np.concatenate(data), (np.concatenate(ri), np.concatenate(ci))), shape=(ry.size, cy.size)
    )
    unknown = missing[cy, cx]
    a_u = lap[:, np.flatnonzero(unknown)]
    a_k = lap[:, np.flatnonzero(~unknown)]
    known_vals = image[cy[~unknown], cx[~unknown]].astype(np.float64)  # (k, 3)
    normal = (a_u.T @ a_u).tocsc()
    rhs = -(a_u.T @ (a_k @ known_vals))
    out[cy[unknown], cx[unknown]] = spla.splu(normal).solve(rhs)
    return out


def biharmonic(image: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """Biharmonic (smooth, gradient-continuing) fill."""
    if not missing.any():
        return image.copy()
    return _paste(image, missing, _biharmonic_float(image, missing))


# -- sparse DCT ------------------------------------------------------------------------------------
def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    d = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    d[0] /= np.sqrt(2.0)
    return d.astype(np.float32)


def sparse_dct(
    image: np.ndarray,
    missing: np.ndarray,
    *,
    blocks: tuple[int, ...] = (16,),
    shifts_per_side: int = 4,
    iterations: int = 30,
    t_start: float = 200.0,
    t_end: float = 4.0,
    init: str = "biharmonic",
    joint: bool = True,
    check: Callable[[float], None] | None = None,
) -> np.ndarray:
    """Iterated hard thresholding of overlapping block DCTs, threshold falling geometrically
    from ``t_start`` to ``t_end`` (in 0-255 units) over ``iterations`` sweeps.

    Each sweep: for every block size and grid shift (``shifts_per_side`` per axis), transform the
    blocks that touch a missing pixel, zero the small coefficients (keep DC), transform back,
    average over shifts and overwrite the missing pixels only. Work is proportional to the
    damage's area, not the crop's. ``joint`` thresholds the colour channels together (a
    coefficient survives in all three or in none: edges stay aligned across channels).
    ``check(fraction_done)`` is called between sweeps (progress, cancellation).
    """
    if not missing.any():
        return image.copy()
    if init == "biharmonic":
        start = _biharmonic_float(image, missing)
    elif init == "telea":
        start = telea(image, missing).astype(np.float32)
    elif init == "ns":
        start = navier_stokes(image, missing).astype(np.float32)
    else:
        raise ValueError(f"unknown init {init!r}")
    x = start @ _OPPONENT.T  # HxWx3 float32
    pad = max(blocks)
    # reflect-pad by one block so every missing pixel sits in a full block for every shift
    p = np.pad(x, ((pad, pad), (pad, pad), (0, 0)), mode="reflect")
    mp = np.pad(missing, pad, mode="constant")
    # the reflected border mirrors missing pixels too: re-mirror it after each sweep when needed
    h, w = missing.shape
    near_border = bool(
        missing[:pad].any()
        or missing[h - pad :].any()
        or missing[:, :pad].any()
        or missing[:, w - pad :].any()
    )
    plans = []
    for b in blocks:
        d = _dct_matrix(b)
        dt = np.ascontiguousarray(d.T)
        step = max(1, b // shifts_per_side)
        for sy in range(0, b, step):
            for sx in range(0, b, step):
                nby = (p.shape[0] - sy) // b
                nbx = (p.shape[1] - sx) // b
                sub = mp[sy : sy + nby * b, sx : sx + nbx * b].reshape(nby, b, nbx, b)
                iy, ix = np.nonzero(sub.any(axis=(1, 3)))
                plans.append((b, d, dt, sy, sx, nby, nbx, iy, ix))
    n_plans = np.float32(len(plans))
    for i, t in enumerate(np.geomspace(t_start, t_end, iterations).astype(np.float32)):
        if check is not None:
            check(i / iterations)
        acc = np.zeros_like(p)
        for b, d, dt, sy, sx, nby, nbx, iy, ix in plans:
            view = p[sy : sy + nby * b, sx : sx + nbx * b].reshape(nby, b, nbx, b, 3)
            blk = view.transpose(0, 2, 4, 1, 3)[iy, ix]  # n, 3, b, b
            coef = d @ blk @ dt
            dc = coef[..., 0, 0].copy()
            if joint:
                small = np.sqrt((coef * coef).sum(axis=1, keepdims=True)) < t
                small = np.broadcast_to(small, coef.shape)
            else:
                small = np.abs(coef) < t
            coef[small] = 0.0
            coef[..., 0, 0] = dc
            rec = dt @ coef @ d
            aview = acc[sy : sy + nby * b, sx : sx + nbx * b].reshape(nby, b, nbx, b, 3)
            # blocks of one shift never overlap, so fancy-index += adds each exactly once
            aview.transpose(0, 2, 4, 1, 3)[iy, ix] += rec
        p[mp] = acc[mp] / n_plans
        if near_border:
            p = np.pad(p[pad:-pad, pad:-pad], ((pad, pad), (pad, pad), (0, 0)), mode="reflect")
    y = p[pad:-pad, pad:-pad] @ _OPPONENT  # orthonormal: inverse = transpose
    return _paste(image, missing, y)
