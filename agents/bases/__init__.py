"""The algorithm bases: what the agents of one kind share, on the harness contract
(:class:`agents.interface.HarnessAgent`): :mod:`agents.bases.off_policy` (replay memory, twin
critics, a denoiser actor: DIPO, QVPO, DACER) and :mod:`agents.bases.on_policy` (rollouts, GAE,
clipped surrogate, KL-adaptive learning rate: GenPO). The diffusion math they use lives in
:mod:`agents.diffusion`, which knows no RL loop."""
