"""One module per algorithm; each declares ``ALGORITHM`` (see :mod:`agents.catalogue`).

Classic baselines (skrl's implementations): ``ppo``, ``ddpg``, ``td3``, ``sac``. Diffusion policies
(the review's taxonomy, Sec. 2): ``dipo`` (action gradient), ``qvpo`` (Q-weighting), ``dacer``
(backpropagation through time), ``genpo`` (proximity, exact likelihood); beyond the review's eight,
``dppo`` (proximity: PPO over the denoising chain) and ``fpopp`` (proximity: FPO++'s flow-matching
ratio).
"""
