"""HDRM, hand de-occlusion and removal (paper Sec. 3.3).

``masks`` (equations (2) and (3), the composite), ``partial_conv``, ``transformer``
and ``network`` (HDRNet), ``discriminator`` (PatchGAN), ``losses`` (equation (4)),
``data`` and ``cache`` (per-hand crops), ``training`` (the two-stage GAN on the shared
trainer), ``weights`` (files and the uint8 ``HDRM`` runner), ``export`` (ONNX),
``evaluate`` (``handhdr eval-hdr`` against Telea), ``fixtures`` (a tiny test dataset).
"""
