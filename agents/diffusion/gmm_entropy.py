"""Entropy of a diffusion policy's action distribution, estimated per state with a Gaussian mixture.

DACER cannot evaluate log pi(a|s) of its chain, so it fits a Gaussian mixture (3 components, full
covariance) to a few hundred action samples per state and reads the entropy off the fit. Here:
batched EM over states in float64 (TF32 and float32 break the Cholesky factorisations),
farthest-point initialisation, 30 iterations, a small ridge on the covariances, then one of:

- ``bound`` (DACER's original, relax/algorithm/dacer.py ``estimate_entropy``, which fits sklearn's
  ``GaussianMixture``): H <= -sum_k w_k log w_k + sum_k w_k H(N(mu_k, Sigma_k)), with
  H(N) = d/2 (1 + log 2 pi) + 1/2 log det Sigma: the entropy of the mixture's component labels plus
  the components' entropies, an upper bound on the mixture's entropy;
- ``monte_carlo``: H ~ -mean_i log p(x_i) over the same samples.

The fit differs from sklearn's (k-means initialisation, up to 100 iterations, ridge 1e-6): the
estimator is the original's, the optimiser is ours, batched over states on the device.
"""

from __future__ import annotations

import math

import torch


def _log_gauss(x: torch.Tensor, mean: torch.Tensor, cov: torch.Tensor) -> torch.Tensor:
    """x [S, n, d], mean [S, c, d], cov [S, c, d, d] -> log N(x_i; mean_j, cov_j) [S, n, c]."""
    d = x.shape[-1]
    chol = torch.linalg.cholesky_ex(cov).L  # [S, c, d, d]; _ex: no error check, no host sync
    diff = (x.unsqueeze(2) - mean.unsqueeze(1)).permute(0, 2, 3, 1)  # [S, c, d, n]
    sol = torch.linalg.solve_triangular(chol, diff, upper=False)  # [S, c, d, n]
    maha = sol.square().sum(dim=2).transpose(1, 2)  # [S, n, c]
    logdet = 2 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)  # [S, c]
    return -0.5 * (maha + logdet.unsqueeze(1) + d * math.log(2 * math.pi))


ESTIMATORS = ("bound", "monte_carlo")


def gmm_entropy(samples: torch.Tensor, components: int = 3, iterations: int = 30, ridge: float = 1e-4,
                generator: torch.Generator | None = None, estimator: str = "bound") -> torch.Tensor:
    """samples [S, n, d] (n draws per state) -> [S] entropy estimates of the fitted mixtures."""
    if estimator not in ESTIMATORS:
        raise ValueError(f"unknown entropy estimator {estimator!r}; valid: {', '.join(ESTIMATORS)}")
    x = samples.double()
    states, n, d = x.shape
    eye = torch.eye(d, dtype=x.dtype, device=x.device)
    # farthest-point initialisation: a random sample, then repeatedly the sample farthest from the chosen
    first = torch.randint(0, n, (states,), generator=generator).to(x.device)
    centers = [x[torch.arange(states, device=x.device), first]]
    for _ in range(components - 1):
        dist = torch.stack([(x - c.unsqueeze(1)).square().sum(-1) for c in centers]).min(dim=0).values
        centers.append(x[torch.arange(states, device=x.device), dist.argmax(dim=1)])
    mean = torch.stack(centers, dim=1)  # [S, c, d]
    spread = x.var(dim=1, unbiased=False).mean(-1).view(states, 1, 1, 1) / components
    cov = (spread + ridge) * eye.expand(states, components, d, d)
    log_w = torch.full((states, components), -math.log(components), dtype=x.dtype, device=x.device)
    for _ in range(iterations):
        log_p = _log_gauss(x, mean, cov) + log_w.unsqueeze(1)  # [S, n, c]
        resp = torch.softmax(log_p, dim=-1)
        nk = resp.sum(dim=1) + 1e-10  # [S, c]
        log_w = torch.log(nk / n)
        mean = torch.einsum("snc,snd->scd", resp, x) / nk.unsqueeze(-1)
        diff = x.unsqueeze(2) - mean.unsqueeze(1)  # [S, n, c, d]
        cov = torch.einsum("snc,sncd,snce->scde", resp, diff, diff) / nk.view(states, components, 1, 1)
        cov = cov + ridge * eye
    if estimator == "bound":
        logdet = torch.linalg.slogdet(cov).logabsdet  # [S, c]
        component = 0.5 * d * (1 + math.log(2 * math.pi)) + 0.5 * logdet
        w = log_w.exp()
        return (-(w * log_w).sum(-1) + (w * component).sum(-1)).to(samples.dtype)
    log_mix = torch.logsumexp(_log_gauss(x, mean, cov) + log_w.unsqueeze(1), dim=-1)  # [S, n]
    return -log_mix.mean(dim=1).to(samples.dtype)
