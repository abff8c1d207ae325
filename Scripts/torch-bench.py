#!/usr/bin/env python3
"""The PyTorch (CPU) twin of `swift run -c release Bench`: the same workloads, timed the same way.

Usage: torch-bench.py [--only NAME] [--threads N] [--reps N] [--warmup N]

One JSON object per line on stdout, progress on stderr. Every value is the median of the timed
repetitions, after untimed warm-up calls. gemm and conv repeat each call until a repetition lasts
0.2 s and report per call; a training step is timed whole: drawing its random numbers, forward,
backward and the optimizer step. The workloads (all float32, NCHW):

  gemm               C = A·B, n×n for n = 256, 512, 1024 (numpy and torch), GFLOP/s
  conv               Conv2d 64→128, 3×3, pad 1, bias, on 64×64×16×16: forward, then gradients to
                     input, weight and bias for an upstream gradient of ones, ms
  dcgan-step         the source's DCGAN (G 512-256-128, D 128-256-512, 3×32×32, batch 64): D step on
                     real and detached fake, G step through D frozen, BCE on logits, Adam 2e-4 (0.5, 0.999)
  vae-step           the source's VAE on 3×32×32, batch 64: MSE (mean) + 1e-3·KL, Adam 1e-3
  ddpm-step          TinyUNet at width 32 on 1×28×28, batch 64, ε-prediction MSE, linear β, Adam 2e-4
  gan-chapter-step   the GAN chapter's default DCGAN: G 64-32-16, D 16-32-64, 1×32×32, batch 64
  vae-chapter-step   the VAE chapter's step: 1×32×32, batch 64, ‖x − x̂‖²/(2·0.3²) summed over
                     pixels + KL, both averaged over the batch, Adam 1e-3
  ddpm-chapter-step  TinyUNet at width 16 with ten classes and a null label (dropped with p 0.2),
                     batch 64, Adam 1e-3
  classifier-step    the FID-FMNIST classifier (conv widths 16/32/64, 128 features), batch 64 of
                     1×32×32, cross-entropy, Adam 2e-3
"""
import argparse
import json
import math
import os
import sys
import time

WORKLOADS = ["gemm", "conv", "dcgan-step", "vae-step", "ddpm-step",
             "gan-chapter-step", "vae-chapter-step", "ddpm-chapter-step", "classifier-step"]

parser = argparse.ArgumentParser(description="PyTorch twin of the Bench workloads")
parser.add_argument("--only", choices=WORKLOADS)
parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
parser.add_argument("--reps", type=int, default=10)
parser.add_argument("--warmup", type=int, default=3)
ARGS = parser.parse_args()
# The BLAS thread counts must be set before numpy and torch load.
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = str(ARGS.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from pytorch_models import TinyUNet  # noqa: E402  (the book's PyTorch twins, beside this script)

torch.set_num_threads(ARGS.threads)
torch.manual_seed(0)


def log(message):
    print(message, file=sys.stderr, flush=True)


def emit(**fields):
    fields.update(threads=ARGS.threads, torch=torch.__version__)
    print(json.dumps(fields), flush=True)


def seconds_per_call(call, minimum_repetition_seconds=0.0):
    """Median seconds per call over ARGS.reps timed repetitions, after ARGS.warmup untimed calls."""
    for _ in range(ARGS.warmup):
        call()
    inner = 1
    if minimum_repetition_seconds > 0:
        start = time.perf_counter()
        call()
        inner = max(1, math.ceil(minimum_repetition_seconds / max(time.perf_counter() - start, 1e-9)))
    times = []
    for _ in range(ARGS.reps):
        start = time.perf_counter()
        for _ in range(inner):
            call()
        times.append((time.perf_counter() - start) / inner)
    times.sort()
    middle = len(times) // 2
    return times[middle] if len(times) % 2 else 0.5 * (times[middle - 1] + times[middle])


def emit_step(name, batch, seconds, **extra):
    emit(workload=name, impl="pytorch", batch=batch, unit="img/s", value=batch / seconds, median_s=seconds, **extra)


def parameter_count(module):
    return sum(p.numel() for p in module.parameters())


# MARK: gemm and conv

def bench_gemm():
    for n in (256, 512, 1024):
        log(f"[gemm] n={n}")
        a, b = torch.randn(n, n), torch.randn(n, n)
        seconds = seconds_per_call(lambda: torch.mm(a, b), 0.2)
        emit(workload="gemm", impl="pytorch", n=n, unit="GFLOP/s", value=2 * n ** 3 / seconds / 1e9)
        an, bn = a.numpy(), b.numpy()
        seconds = seconds_per_call(lambda: an @ bn, 0.2)
        emit(workload="gemm", impl="numpy", n=n, unit="GFLOP/s", value=2 * n ** 3 / seconds / 1e9)


def bench_conv():
    conv = nn.Conv2d(64, 128, 3, padding=1)
    x = torch.randn(64, 64, 16, 16, requires_grad=True)
    ones = torch.ones(64, 128, 16, 16)

    def call():
        torch.autograd.grad(conv(x), [x, conv.weight, conv.bias], ones)
    seconds = seconds_per_call(call, 0.2)
    emit(workload="conv", impl="pytorch", batch=64, unit="ms", value=seconds * 1e3)


# MARK: the models

def dcgan(widths, channels, latent=100):
    """The source's DCGAN generator and its mirror, with DCGAN initialisation."""
    g1, g2, g3 = widths
    generator = nn.Sequential(
        nn.ConvTranspose2d(latent, g1, 4, 1, 0, bias=False), nn.BatchNorm2d(g1), nn.ReLU(True),
        nn.ConvTranspose2d(g1, g2, 4, 2, 1, bias=False), nn.BatchNorm2d(g2), nn.ReLU(True),
        nn.ConvTranspose2d(g2, g3, 4, 2, 1, bias=False), nn.BatchNorm2d(g3), nn.ReLU(True),
        nn.ConvTranspose2d(g3, channels, 4, 2, 1, bias=False), nn.Tanh())
    d1, d2, d3 = reversed(widths)
    discriminator = nn.Sequential(
        nn.Conv2d(channels, d1, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True),
        nn.Conv2d(d1, d2, 4, 2, 1, bias=False), nn.BatchNorm2d(d2), nn.LeakyReLU(0.2, True),
        nn.Conv2d(d2, d3, 4, 2, 1, bias=False), nn.BatchNorm2d(d3), nn.LeakyReLU(0.2, True),
        nn.Conv2d(d3, 1, 4, 1, 0, bias=False))
    for module in list(generator.modules()) + list(discriminator.modules()):
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(module.weight, 0.0, 0.02)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.normal_(module.weight, 1.0, 0.02)
            nn.init.zeros_(module.bias)
    return generator, discriminator


def bench_dcgan(name, widths, channels):
    batch = 64
    generator, discriminator = dcgan(widths, channels)
    log(f"[params] {name} G: {parameter_count(generator)}  D: {parameter_count(discriminator)}")
    g_optimizer = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    d_optimizer = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = torch.rand(batch, channels, 32, 32) * 2 - 1
    ones, zeros = torch.ones(batch), torch.zeros(batch)

    def step():
        fake = generator(torch.randn(batch, 100, 1, 1))
        d_loss = (F.binary_cross_entropy_with_logits(discriminator(real).view(-1), ones)
                  + F.binary_cross_entropy_with_logits(discriminator(fake.detach()).view(-1), zeros))
        d_optimizer.zero_grad()
        d_loss.backward()
        d_optimizer.step()
        for p in discriminator.parameters():
            p.requires_grad_(False)
        g_loss = F.binary_cross_entropy_with_logits(discriminator(fake).view(-1), ones)
        g_optimizer.zero_grad()
        g_loss.backward()
        for p in discriminator.parameters():
            p.requires_grad_(True)
        g_optimizer.step()
    emit_step(name, batch, seconds_per_call(step))


class VAE(nn.Module):
    def __init__(self, channels, latent=32):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(channels, 32, 4, 2, 1), nn.ReLU(), nn.Conv2d(32, 64, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(64, 128, 4, 2, 1), nn.ReLU(), nn.Flatten())
        self.mean, self.log_variance = nn.Linear(2048, latent), nn.Linear(2048, latent)
        self.decoder_input = nn.Linear(latent, 2048)
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(32, channels, 4, 2, 1), nn.Tanh())

    def forward(self, x):
        h = self.encoder(x)
        mean, log_variance = self.mean(h), self.log_variance(h)
        z = mean + torch.randn_like(mean) * torch.exp(0.5 * log_variance)
        return self.decoder(self.decoder_input(z).view(-1, 128, 4, 4)), mean, log_variance


def kl_divergence(mean, log_variance):
    return (-0.5 * (1 + log_variance - mean ** 2 - log_variance.exp()).sum(dim=1)).mean()


def bench_vae(name, channels, batch, loss_of):
    model = VAE(channels)
    log(f"[params] {name}: {parameter_count(model)}")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(batch, channels, 32, 32) * 2 - 1

    def step():
        reconstruction, mean, log_variance = model(x)
        loss = loss_of(reconstruction, x, mean, log_variance)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    emit_step(name, batch, seconds_per_call(step))


def bench_ddpm(name, width, classes, learning_rate):
    batch, steps = 64, 1000
    model = TinyUNet(width=width, classCount=classes)
    log(f"[params] {name}: {parameter_count(model)}")
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    alpha_bar = torch.cumprod(1 - torch.linspace(1e-4, 0.02, steps), dim=0)
    x0 = torch.rand(batch, 1, 28, 28) * 2 - 1
    labels = torch.arange(batch) % max(classes, 1)

    def step():
        t = torch.randint(0, steps, (batch,))
        noise = torch.randn_like(x0)
        a = alpha_bar[t][:, None, None, None]
        xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
        dropped = torch.where(torch.rand(batch) < 0.2, torch.full_like(labels, classes), labels) if classes else None
        loss = F.mse_loss(model(xt, t, dropped), noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    emit_step(name, batch, seconds_per_call(step), width=width)


def classifier():
    layers, channels = [], 1
    for width in (16, 32, 64):
        layers += [nn.Conv2d(channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), nn.AvgPool2d(2)]
        channels = width
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(64 * 16, 128), nn.ReLU(), nn.Linear(128, 10))


def bench_classifier():
    batch = 64
    model = classifier()
    log(f"[params] classifier-step: {parameter_count(model)}")
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    x = torch.rand(batch, 1, 32, 32) * 2 - 1
    labels = torch.arange(batch) % 10

    def step():
        loss = F.cross_entropy(model(x), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    emit_step("classifier-step", batch, seconds_per_call(step))


RUNS = {
    "gemm": bench_gemm,
    "conv": bench_conv,
    "dcgan-step": lambda: bench_dcgan("dcgan-step", (512, 256, 128), 3),
    "vae-step": lambda: bench_vae("vae-step", 3, 64, lambda r, x, m, v: F.mse_loss(r, x) + 1e-3 * kl_divergence(m, v)),
    "ddpm-step": lambda: bench_ddpm("ddpm-step", 32, 0, 2e-4),
    "gan-chapter-step": lambda: bench_dcgan("gan-chapter-step", (64, 32, 16), 1),
    "vae-chapter-step": lambda: bench_vae(
        "vae-chapter-step", 1, 64,
        lambda r, x, m, v: F.mse_loss(r, x, reduction="sum") / (2 * 0.3 ** 2 * x.shape[0]) + kl_divergence(m, v)),
    "ddpm-chapter-step": lambda: bench_ddpm("ddpm-chapter-step", 16, 10, 1e-3),
    "classifier-step": bench_classifier,
}

for name in WORKLOADS:
    if ARGS.only in (None, name):
        with torch.enable_grad():
            RUNS[name]()
