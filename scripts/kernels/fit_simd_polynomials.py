# Derives polynomial coefficients for the f32 SIMD exp and erf used in assembly/simd_exp_erf.ts (run by hand: /usr/bin/python3 scripts/kernels/fit_simd_polynomials.py).
# Lawson (iteratively reweighted least squares) toward minimax relative error, references from mpmath.
import numpy as np, mpmath as mp
mp.mp.dps = 40
f32 = np.float32

def lawson(basis, target, weight, iters=200):
    # basis: [npts][nterms], target: [npts]; minimise max |weight*(basis@c - target)|
    A = basis * weight[:, None]; b = target * weight
    w = np.ones(len(b)) / len(b)
    for _ in range(iters):
        sw = np.sqrt(w)
        c, *_ = np.linalg.lstsq(A * sw[:, None], b * sw, rcond=None)
        e = np.abs(A @ c - b)
        w = w * e; w /= w.sum()
    return c, np.max(np.abs(A @ c - b))

def cheb_nodes(a, b, n):
    k = np.arange(n)
    x = np.cos(np.pi * (k + 0.5) / n)
    return np.sort((a + b) / 2 + (b - a) / 2 * x)

import sys
which = sys.argv[1]
if which == "exp":
    deg = int(sys.argv[2])  # total degree; c0=c1=1 fixed
    L = float(mp.log(2) / 2)
    r = np.concatenate([cheb_nodes(-L, L, 4000), [-L, L]])
    # exp(r) - 1 - r = r^2 * sum c_k r^(k-2)
    tgt = np.array([float(mp.exp(mp.mpf(x)) - 1 - mp.mpf(x)) for x in r])
    basis = np.stack([r ** k for k in range(2, deg + 1)], 1)
    wt = 1 / np.exp(r)
    c, err = lawson(basis, tgt, wt)
    print("rel err", err); print([repr(f32(x)) for x in c])
elif which == "erfA":
    hi = float(sys.argv[2]); deg = int(sys.argv[3])  # erf(a) = a + a*P(a^2), P degree deg
    a = cheb_nodes(1e-6, hi, 4000)
    tgt = np.array([float(mp.erf(mp.mpf(x)) / mp.mpf(x) - 1) for x in a])
    u = a * a
    basis = np.stack([u ** k for k in range(0, deg + 1)], 1)
    wt = np.ones_like(a)  # relative to a; erf(a)/a ~ 1.1 so this is ~relative error of erf
    c, err = lawson(basis, tgt, wt)
    print("rel err", err); print([repr(f32(x)) for x in c])
elif which == "erfB":
    lo = float(sys.argv[2]); hi = float(sys.argv[3]); deg = int(sys.argv[4])  # erf(a)-erf(1) = d*Q(d)
    a = cheb_nodes(lo, hi, 4000); d = a - 1
    e1 = mp.erf(1)
    tgt = np.array([float((mp.erf(mp.mpf(x)) - e1)) for x in a])
    basis = np.stack([d ** k for k in range(1, deg + 1)], 1)
    c, err = lawson(basis, tgt, np.ones_like(a))
    print("abs err", err, "erf1", repr(f32(float(e1))), "erfc1", repr(f32(float(1 - e1))))
    print([repr(f32(x)) for x in c])
elif which == "erfC":
    lo = float(sys.argv[2]); hi = float(sys.argv[3]); p = float(sys.argv[4]); deg = int(sys.argv[5])
    a = cheb_nodes(lo, hi, 6000)
    t = 1 / (1 + p * a)
    R = np.array([float(mp.erfc(mp.mpf(x)) * mp.exp(mp.mpf(x) ** 2)) for x in a])
    # R = t * Q(t); relative error
    basis = np.stack([t ** (k + 1) for k in range(0, deg + 1)], 1)
    c, err = lawson(basis, R, 1 / R)
    print("rel err", err); print([repr(f32(x)) for x in c])
