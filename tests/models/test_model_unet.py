"""A small U-Net (milesial/Pytorch-UNet, unet/unet_parts.py and unet/unet_model.py) in both of
its upsampling variants, and a tiny 1-D convolutional audio encoder/decoder, ported line for line.

The U-Net port keeps the original's classes and attribute names (``DoubleConv.double_conv``,
``Down.maxpool_conv``, ``Up.up``/``Up.conv``, ``OutConv.conv``, ``UNet.inc``/``down1``..
``up4``/``outc``), so torch's state dict loads with ``strict=True``.  Differences:

- the widths are ``base``, ``2 * base`` .. ``16 * base`` (the original's 64 .. 1024 with
  ``base=64``), so that a zoo case takes seconds;
- ``Up.forward`` does not pad ``x1`` to ``x2``'s size with ``F.pad``: ``jitcore.nn.functional``
  has no ``pad`` yet (another part of issue 15 brings it).  The 32x32 input halves evenly four
  times, so the original's pad is by zero everywhere and the outputs are the same;
- ``torch.cat([x2, x1], dim=1)`` is ``np.concatenate([x2, x1], axis=1)`` (NumPy's spelling).

The audio net is a Conv1d encoder and a ConvTranspose1d decoder with a skip connection, written
the way such torch models are (Demucs-like, tiny).
"""

import numpy as np
import pytest

from jitcore import nn

from _zoo import check_model, inputs_from_seed, trained_statistics


class DoubleConv(nn.Module):
    """(convolution => [BN] => ReLU) * 2"""

    def __init__(self, in_channels, out_channels, mid_channels=None):
        super().__init__()
        if not mid_channels:
            mid_channels = out_channels
        self.double_conv = nn.Sequential(
            nn.Conv2d(in_channels, mid_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(mid_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True)
        )

    def forward(self, x):
        return self.double_conv(x)


class Down(nn.Module):
    """Downscaling with maxpool then double conv"""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.maxpool_conv = nn.Sequential(
            nn.MaxPool2d(2),
            DoubleConv(in_channels, out_channels)
        )

    def forward(self, x):
        return self.maxpool_conv(x)


class Up(nn.Module):
    """Upscaling then double conv"""

    def __init__(self, in_channels, out_channels, bilinear=True):
        super().__init__()

        # if bilinear, use the normal convolutions to reduce the number of channels
        if bilinear:
            self.up = nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True)
            self.conv = DoubleConv(in_channels, out_channels, in_channels // 2)
        else:
            self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)
            self.conv = DoubleConv(in_channels, out_channels)

    def forward(self, x1, x2):
        x1 = self.up(x1)
        x = np.concatenate([x2, x1], axis=1)
        return self.conv(x)


class OutConv(nn.Module):
    def __init__(self, in_channels, out_channels):
        super(OutConv, self).__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=1)

    def forward(self, x):
        return self.conv(x)


class UNet(nn.Module):
    def __init__(self, n_channels, n_classes, bilinear=False, base=64):
        super(UNet, self).__init__()
        self.n_channels = n_channels
        self.n_classes = n_classes
        self.bilinear = bilinear

        self.inc = (DoubleConv(n_channels, base))
        self.down1 = (Down(base, base * 2))
        self.down2 = (Down(base * 2, base * 4))
        self.down3 = (Down(base * 4, base * 8))
        factor = 2 if bilinear else 1
        self.down4 = (Down(base * 8, base * 16 // factor))
        self.up1 = (Up(base * 16, base * 8 // factor, bilinear))
        self.up2 = (Up(base * 8, base * 4 // factor, bilinear))
        self.up3 = (Up(base * 4, base * 2 // factor, bilinear))
        self.up4 = (Up(base * 2, base, bilinear))
        self.outc = (OutConv(base, n_classes))

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x4 = self.down3(x3)
        x5 = self.down4(x4)
        x = self.up1(x5, x4)
        x = self.up2(x, x3)
        x = self.up3(x, x2)
        x = self.up4(x, x1)
        logits = self.outc(x)
        return logits


class AudioEncoderDecoder(nn.Module):
    """Strided Conv1d encoder, ConvTranspose1d decoder, one skip connection."""

    def __init__(self, channels=1, hidden=8):
        super().__init__()
        self.enc1 = nn.Sequential(nn.Conv1d(channels, hidden, 8, stride=2, padding=3), nn.ReLU())
        self.enc2 = nn.Sequential(nn.Conv1d(hidden, hidden * 2, 8, stride=2, padding=3),
                                  nn.ReLU())
        self.dec2 = nn.Sequential(nn.ConvTranspose1d(hidden * 2, hidden, 8, stride=2, padding=3),
                                  nn.ReLU())
        self.dec1 = nn.ConvTranspose1d(hidden, channels, 7, stride=2, padding=3,
                                       output_padding=1)
        self.upsample = nn.Upsample(scale_factor=2, mode="linear")

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(e1)
        d2 = self.dec2(e2) + e1
        return np.tanh(self.dec1(d2)) + self.upsample(e1[:, :1])



def torch_unet(bilinear, base):
    import torch
    import torch.nn as tnn

    class TorchDoubleConv(tnn.Module):
        def __init__(self, in_channels, out_channels, mid_channels=None):
            super().__init__()
            if not mid_channels:
                mid_channels = out_channels
            self.double_conv = tnn.Sequential(
                tnn.Conv2d(in_channels, mid_channels, kernel_size=3, padding=1, bias=False),
                tnn.BatchNorm2d(mid_channels),
                tnn.ReLU(inplace=True),
                tnn.Conv2d(mid_channels, out_channels, kernel_size=3, padding=1, bias=False),
                tnn.BatchNorm2d(out_channels),
                tnn.ReLU(inplace=True))

        def forward(self, x):
            return self.double_conv(x)

    class TorchDown(tnn.Module):
        def __init__(self, in_channels, out_channels):
            super().__init__()
            self.maxpool_conv = tnn.Sequential(tnn.MaxPool2d(2),
                                               TorchDoubleConv(in_channels, out_channels))

        def forward(self, x):
            return self.maxpool_conv(x)

    class TorchUp(tnn.Module):
        def __init__(self, in_channels, out_channels, bilinear=True):
            super().__init__()
            if bilinear:
                self.up = tnn.Upsample(scale_factor=2, mode='bilinear', align_corners=True)
                self.conv = TorchDoubleConv(in_channels, out_channels, in_channels // 2)
            else:
                self.up = tnn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2,
                                              stride=2)
                self.conv = TorchDoubleConv(in_channels, out_channels)

        def forward(self, x1, x2):
            x1 = self.up(x1)
            diffY = x2.size()[2] - x1.size()[2]
            diffX = x2.size()[3] - x1.size()[3]
            x1 = tnn.functional.pad(x1, [diffX // 2, diffX - diffX // 2,
                                         diffY // 2, diffY - diffY // 2])
            x = torch.cat([x2, x1], dim=1)
            return self.conv(x)

    class TorchOutConv(tnn.Module):
        def __init__(self, in_channels, out_channels):
            super().__init__()
            self.conv = tnn.Conv2d(in_channels, out_channels, kernel_size=1)

        def forward(self, x):
            return self.conv(x)

    class TorchUNet(tnn.Module):
        def __init__(self, n_channels, n_classes, bilinear=False):
            super().__init__()
            self.inc = TorchDoubleConv(n_channels, base)
            self.down1 = TorchDown(base, base * 2)
            self.down2 = TorchDown(base * 2, base * 4)
            self.down3 = TorchDown(base * 4, base * 8)
            factor = 2 if bilinear else 1
            self.down4 = TorchDown(base * 8, base * 16 // factor)
            self.up1 = TorchUp(base * 16, base * 8 // factor, bilinear)
            self.up2 = TorchUp(base * 8, base * 4 // factor, bilinear)
            self.up3 = TorchUp(base * 4, base * 2 // factor, bilinear)
            self.up4 = TorchUp(base * 2, base, bilinear)
            self.outc = TorchOutConv(base, n_classes)

        def forward(self, x):
            x1 = self.inc(x)
            x2 = self.down1(x1)
            x3 = self.down2(x2)
            x4 = self.down3(x3)
            x5 = self.down4(x4)
            x = self.up1(x5, x4)
            x = self.up2(x, x3)
            x = self.up3(x, x2)
            x = self.up4(x, x1)
            return self.outc(x)

    return TorchUNet(3, 2, bilinear)


def torch_audio_net(channels=1, hidden=8):
    import torch
    import torch.nn as tnn

    class TorchAudioEncoderDecoder(tnn.Module):
        def __init__(self):
            super().__init__()
            self.enc1 = tnn.Sequential(tnn.Conv1d(channels, hidden, 8, stride=2, padding=3),
                                       tnn.ReLU())
            self.enc2 = tnn.Sequential(tnn.Conv1d(hidden, hidden * 2, 8, stride=2, padding=3),
                                       tnn.ReLU())
            self.dec2 = tnn.Sequential(tnn.ConvTranspose1d(hidden * 2, hidden, 8, stride=2,
                                                           padding=3), tnn.ReLU())
            self.dec1 = tnn.ConvTranspose1d(hidden, channels, 7, stride=2, padding=3,
                                            output_padding=1)
            self.upsample = tnn.Upsample(scale_factor=2, mode="linear")

        def forward(self, x):
            e1 = self.enc1(x)
            e2 = self.enc2(e1)
            d2 = self.dec2(e2) + e1
            return torch.tanh(self.dec1(d2)) + self.upsample(e1[:, :1])

    return TorchAudioEncoderDecoder()


BASE = 8

CASES = [
    dict(name="unet_bilinear", make_port=lambda: trained_statistics(UNet(3, 2, True, BASE)),
         make_torch_model=lambda: torch_unet(True, BASE),
         inputs=lambda: inputs_from_seed([((1, 3, 32, 32), np.float32)])),
    dict(name="unet_transposed", make_port=lambda: trained_statistics(UNet(3, 2, False, BASE)),
         make_torch_model=lambda: torch_unet(False, BASE),
         inputs=lambda: inputs_from_seed([((1, 3, 32, 32), np.float32)])),
    dict(name="audio_conv1d_autoencoder", make_port=AudioEncoderDecoder,
         make_torch_model=torch_audio_net,
         inputs=lambda: inputs_from_seed([((2, 1, 256), np.float32)])),
]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_model(case, tmp_path):
    check_model(case, tmp_path, rtol=1e-4, atol=1e-4)
