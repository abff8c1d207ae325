"""The book's image generators as PyTorch modules, with the same parameter names, so that a state
dict written by `swift run -c release Sample --checkpoint CHECKPOINT --export-state-dict OUT.safetensors`
loads with load_state_dict(strict=True) and draws the same images.

    python3 Scripts/pytorch_models.py OUT.safetensors     # builds the model the file describes and loads it

Needs torch, numpy and safetensors; the classes alone need only torch (Scripts/torch-bench.py
times its diffusion steps on this file's TinyUNet).
"""
import json
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


class Generator(nn.Module):
    """DCGANGenerator: the source's DCGAN generator, its widths and a class embedding as options."""

    def __init__(self, latentCount=100, widths=(512, 256, 128), imageChannels=1, classCount=0):
        super().__init__()
        self.latent_count, self.class_count = latentCount, classCount
        if classCount:
            self.label_embedding = nn.Embedding(classCount, classCount)
        w = widths
        self.main = nn.Sequential(
            nn.ConvTranspose2d(latentCount + classCount, w[0], 4, 1, 0, bias=False), nn.BatchNorm2d(w[0]), nn.ReLU(True),
            nn.ConvTranspose2d(w[0], w[1], 4, 2, 1, bias=False), nn.BatchNorm2d(w[1]), nn.ReLU(True),
            nn.ConvTranspose2d(w[1], w[2], 4, 2, 1, bias=False), nn.BatchNorm2d(w[2]), nn.ReLU(True),
            nn.ConvTranspose2d(w[2], imageChannels, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, z, labels=None):
        if self.class_count:
            z = torch.cat([z, self.label_embedding(labels)[:, :, None, None]], 1)
        return self.main(z)

    def draw(self, count, labels=None):
        return self(torch.randn(count, self.latent_count, 1, 1), labels)


class Encoder(nn.Module):
    def __init__(self, channels, latent, widths, classes):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, widths[0], 4, 2, 1)
        self.conv2 = nn.Conv2d(widths[0], widths[1], 4, 2, 1)
        self.conv3 = nn.Conv2d(widths[1], widths[2], 4, 2, 1)
        self.fc_mu = nn.Linear(widths[2] * 16 + classes, latent)
        self.fc_logvar = nn.Linear(widths[2] * 16 + classes, latent)


class Decoder(nn.Module):
    def __init__(self, channels, latent, widths, classes):
        super().__init__()
        self.fc = nn.Linear(latent + classes, widths[2] * 16)
        self.conv1 = nn.ConvTranspose2d(widths[2], widths[1], 4, 2, 1)
        self.conv2 = nn.ConvTranspose2d(widths[1], widths[0], 4, 2, 1)
        self.conv3 = nn.ConvTranspose2d(widths[0], channels, 4, 2, 1)


class VAE(nn.Module):
    """VariationalAutoencoder: the source's encoder and decoder; with classes, a one-hot label joins
    the encoder's features and the latent vector."""

    def __init__(self, imageChannels=1, latentCount=32, widths=(32, 64, 128), classCount=0):
        super().__init__()
        self.latent_count, self.class_count, self.width = latentCount, classCount, widths[2]
        self.encoder = Encoder(imageChannels, latentCount, widths, classCount)
        self.decoder = Decoder(imageChannels, latentCount, widths, classCount)

    def with_labels(self, h, labels):
        return torch.cat([h, F.one_hot(labels, self.class_count).to(h.dtype)], 1) if self.class_count else h

    def encode(self, x, labels=None):
        e = self.encoder
        h = self.with_labels(F.relu(e.conv3(F.relu(e.conv2(F.relu(e.conv1(x)))))).flatten(1), labels)
        return e.fc_mu(h), e.fc_logvar(h)

    def decode(self, z, labels=None):
        d = self.decoder
        h = d.fc(self.with_labels(z, labels)).view(-1, self.width, 4, 4)
        return torch.tanh(d.conv3(F.relu(d.conv2(F.relu(d.conv1(h))))))

    def draw(self, count, labels=None):
        return self.decode(torch.randn(count, self.latent_count), labels)


def sinusoidal_embedding(times, dimension=64):
    """[sin(t·fᵢ)…, cos(t·fᵢ)…] for fᵢ = 10000^(−i/half), computed in float64 and then converted."""
    half = dimension // 2
    frequencies = torch.tensor([10000.0 ** (-i / half) for i in range(half)], dtype=torch.float64)
    angles = times.to(torch.float64)[:, None] * frequencies[None]
    return torch.cat([angles.sin(), angles.cos()], 1)


class TimeResidualBlock(nn.Module):
    def __init__(self, cin, cout, time_dimension=128):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(8, cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.temb = nn.Linear(time_dimension, cout)
        self.norm2, self.conv2 = nn.GroupNorm(8, cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, time):
        h = self.conv1(F.silu(self.norm1(x))) + self.temb(F.silu(time))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return h + (self.skip(x) if self.skip is not None else x)


class TinyUNet(nn.Module):
    """TinyUNet: the diffusion chapter's noise predictor for 28×28 images; label `classCount` is "no class"."""

    def __init__(self, imageChannels=1, width=32, classCount=0, schedule=None, sampler=None):
        # schedule and sampler say how to sample from it, not how it is built.
        super().__init__()
        c1, c2, c3 = width, 2 * width, 4 * width
        self.t1, self.t2 = nn.Linear(64, 128), nn.Linear(128, 128)
        self.conv_in = nn.Conv2d(imageChannels, c1, 3, padding=1)
        self.rb_d1, self.down1 = TimeResidualBlock(c1, c1), nn.Conv2d(c1, c1, 3, 2, 1)
        self.rb_d2, self.down2 = TimeResidualBlock(c1, c2), nn.Conv2d(c2, c2, 3, 2, 1)
        self.rb_m1, self.rb_m2 = TimeResidualBlock(c2, c3), TimeResidualBlock(c3, c3)
        self.up_conv1, self.rb_u1 = nn.Conv2d(c3, c2, 3, padding=1), TimeResidualBlock(c3, c2)
        self.up_conv2, self.rb_u2 = nn.Conv2d(c2, c1, 3, padding=1), TimeResidualBlock(c2, c1)
        self.norm_out, self.conv_out = nn.GroupNorm(8, c1), nn.Conv2d(c1, imageChannels, 3, padding=1)
        self.class_count = classCount
        if classCount:
            self.class_embedding = nn.Embedding(classCount + 1, 128)

    def forward(self, x, timesteps, labels=None):
        time = self.t2(F.silu(self.t1(sinusoidal_embedding(timesteps).to(x.dtype))))
        if self.class_count:
            time = time + self.class_embedding(labels)
        skip1 = self.rb_d1(self.conv_in(x), time)
        skip2 = self.rb_d2(self.down1(skip1), time)
        h = self.rb_m2(self.rb_m1(self.down2(skip2), time), time)
        h = self.rb_u1(torch.cat([self.up_conv1(F.interpolate(h, scale_factor=2)), skip2], 1), time)
        h = self.rb_u2(torch.cat([self.up_conv2(F.interpolate(h, scale_factor=2)), skip1], 1), time)
        return self.conv_out(F.silu(self.norm_out(h)))


TIME_SCALE = 1000.0  # a flow model's times t ∈ [0, 1], stretched to the embedding's range of diffusion steps


class FlowUNet(nn.Module):
    """FlowUNet: the flow chapter's velocity network, a TinyUNet called at times 1000·t."""

    def __init__(self, imageChannels=1, width=32, classCount=0, sampler=None):
        super().__init__()
        self.unet, self.class_count = TinyUNet(imageChannels, width, classCount), classCount

    def forward(self, x, times, labels=None):
        return self.unet(x, times.to(torch.float64) * TIME_SCALE, labels)


class VelocityMLP(nn.Module):
    """VelocityMLP: the input beside 32 sinusoidal features of 1000·t (plus a class vector), SiLU layers."""

    TIME_FEATURES = 32

    def __init__(self, dimension, width=256, depth=3, classCount=0, sampler=None):
        super().__init__()
        sizes = [dimension + self.TIME_FEATURES] + [width] * depth + [dimension]
        layers = []
        for index, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
            layers.append(nn.Linear(n_in, n_out))
            if index < len(sizes) - 2:
                layers.append(nn.SiLU())
        self.net, self.class_count = nn.Sequential(*layers), classCount
        if classCount:
            self.class_embedding = nn.Embedding(classCount + 1, self.TIME_FEATURES)

    def forward(self, x, times, labels=None):
        time = sinusoidal_embedding(times.to(torch.float64) * TIME_SCALE, self.TIME_FEATURES).to(x.dtype)
        if self.class_count:
            time = time + self.class_embedding(labels)
        return self.net(torch.cat([x, time], 1))


class LatentFlow(nn.Module):
    """LatentFlow: a VelocityMLP over a VAE's codes divided by latentScale; images decode codes · latentScale."""

    def __init__(self, autoencoder, flow, latentScale):
        super().__init__()
        self.autoencoder, self.flow, self.latent_scale = VAE(**autoencoder), VelocityMLP(**flow), latentScale

    def decode(self, codes):
        return self.autoencoder.decode(codes * self.latent_scale)


MODELS = {"DCGANGenerator": Generator, "VariationalAutoencoder": VAE, "TinyUNet": TinyUNet,
          "FlowUNet": FlowUNet, "VelocityMLP": VelocityMLP, "LatentFlow": LatentFlow}


def load(path):
    """The model a state dict exported by Sample describes, with its weights, in evaluation mode."""
    from safetensors import safe_open
    from safetensors.torch import load_file
    with safe_open(path, framework="pt") as f:
        metadata = f.metadata()
    model = MODELS[metadata["kind"]](**json.loads(metadata["configuration"]))
    model.load_state_dict(load_file(path), strict=True)
    return model.eval()


if __name__ == "__main__":
    model = load(sys.argv[1])
    print(f"{type(model).__name__}: {sum(p.numel() for p in model.parameters())} parameters, loaded with strict=True")
    if len(sys.argv) == 4:
        # The test's check: run the network on the inputs in the .npy file argv[2], write its output to argv[3].
        import numpy
        with torch.no_grad():
            x = torch.from_numpy(numpy.load(sys.argv[2]))
            if isinstance(model, Generator):
                y = model(x[:, :, None, None], torch.arange(len(x)) % model.class_count if model.class_count else None)
            elif isinstance(model, VAE):
                y = model.decode(x)
            elif isinstance(model, (FlowUNet, LatentFlow)):
                # Velocities at times 0, 1/4, 2/4, …; the latent flow's network takes its codes.
                times, net = torch.arange(len(x), dtype=torch.float64) / 4, model if isinstance(model, FlowUNet) else model.flow
                y = net(x, times, torch.arange(len(x)) % (net.class_count + 1) if net.class_count else None)
            else:
                y = model(x, torch.arange(len(x)) * 97, torch.arange(len(x)) % (model.class_count + 1) if model.class_count else None)
        numpy.save(sys.argv[3], y.numpy())
