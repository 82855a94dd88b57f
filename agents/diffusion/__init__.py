"""The shared diffusion core of the DPRL agents: noise schedules, the denoiser network, the DDPM
reverse sampler (batched over states and candidates) and the denoising loss."""
