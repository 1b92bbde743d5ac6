"""``DiffusionModel``: the network the family trains and checkpoints.

It holds the trained U-Net, an exponential moving average (EMA) of it and the EMA's update
count (both in the state dict, so a resume is exact and a checkpoint samples with the EMA),
and the schedule's abar as a non-saved buffer. ``decode_images`` runs the sampler named by
``sampling`` (a plain attribute a snapshot sets) from a starting noise: the map from latent to
image every latent view uses.
"""

from __future__ import annotations

import copy
import hashlib

import torch
from torch import nn

from genai_engine.families.diffusion.config import DiffusionConfig
from genai_engine.families.diffusion.samplers import Denoiser, SamplingSettings, StepHook, run
from genai_engine.families.diffusion.schedule import alphas_cumprod, root, split_prediction
from genai_engine.families.diffusion.unet import UNet


class DiffusionModel(nn.Module):
    def __init__(self, config: DiffusionConfig) -> None:
        super().__init__()
        self.config = config
        self.unet = UNet(config)
        self.ema = copy.deepcopy(self.unet).requires_grad_(False)
        self.register_buffer("ema_updates", torch.zeros((), dtype=torch.long))
        abar = alphas_cumprod(config.timesteps, config.schedule).float()
        self.register_buffer("abar", abar, persistent=False)
        self.sampling = SamplingSettings()

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.unet(x_t, t, labels)

    @torch.no_grad()
    def update_ema(self) -> None:
        """ema <- d ema + (1 - d) weights, with d warming up as (1 + n) / (10 + n) so the
        average follows the fast early progress instead of remembering the initialisation."""
        n = int(self.ema_updates)
        decay = min(self.config.ema_decay, (1 + n) / (10 + n))
        ema, live = list(self.ema.parameters()), list(self.unet.parameters())
        torch._foreach_lerp_(ema, live, 1 - decay)
        for ema_buffer, buffer in zip(self.ema.buffers(), self.unet.buffers(), strict=True):
            ema_buffer.copy_(buffer)
        self.ema_updates += 1

    def timeline_state(self) -> dict[str, torch.Tensor]:
        """The EMA weights: what samples (and so an epoch's timeline frame) come from."""
        return {k: v for k, v in self.state_dict().items() if k.startswith("ema.")}

    def denoiser(self, labels: torch.Tensor | None, guidance: float = 1.0, clip: bool = True,
                 network: nn.Module | None = None) -> Denoiser:
        """``denoise(x_t, t) -> (eps, x0)`` with the EMA network (or ``network``), classifier-
        free guidance (the conditional and the label-free output in one batch) and, when
        ``clip``, x0 clipped to the image range with eps made consistent with it. t is one
        level for the batch (the samplers) or a (B,) tensor of levels (the likelihood bound)."""
        network = network or self.ema
        guided = labels is not None and self.config.num_classes > 0 and guidance != 1.0
        null = None if labels is None else torch.full_like(labels, self.config.num_classes)

        def denoise(x: torch.Tensor, t: int | torch.Tensor):
            per_image = isinstance(t, torch.Tensor)  # t (B,): each image at its own level
            steps = t if per_image else torch.full((len(x),), t, device=x.device, dtype=torch.long)
            if guided:
                both = network(torch.cat([x, x]), torch.cat([steps, steps]), torch.cat([labels, null]))
                conditional, free = both.chunk(2)
                output = free + guidance * (conditional - free)
            else:
                output = network(x, steps, labels)
            abar = self.abar[t].view(-1, 1, 1, 1) if per_image else float(self.abar[t])
            eps, x0 = split_prediction(output, x, abar, self.config.prediction)
            if clip:
                x0 = x0.clamp(-1, 1)
                eps = (x - root(abar) * x0) / root(1 - abar)
            return eps, x0

        return denoise

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None, settings: SamplingSettings,
                 on_step: StepHook = None) -> torch.Tensor:
        """Starting noise (B, C, H, W) -> images in [0, 1] with ``settings``. A stochastic
        sampler draws its extra noise from a generator seeded by z itself, so a latent always
        decodes to the same image and different latents get independent noise."""
        generator = None
        if settings.stochastic:
            digest = hashlib.blake2b(z.detach().cpu().numpy().tobytes(), digest_size=8).digest()
            generator = torch.Generator().manual_seed(int.from_bytes(digest, "little") >> 1)
        denoise = self.denoiser(labels, settings.guidance)
        x = run(settings, denoise, self.abar, self.config.timesteps, z, generator, on_step)
        return (x + 1) / 2

    def decode_images(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Flat starting noise (B, C*H*W) -> images (B, C, H, W) in [0, 1] with ``sampling``."""
        return self.generate(z.reshape(-1, *self.config.image_shape), labels, self.sampling)
