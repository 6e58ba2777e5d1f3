"""handhdr: 3D interacting hand pose estimation by Hand De-occlusion and Removal.

The package follows the data through the method: ``hand`` (hand model) and
``render`` make synthetic scenes, ``synth`` writes datasets, ``datasets`` reads
real and synthetic ones into one schema, ``hasm`` / ``hdrm`` / ``shpe`` are the
three stages, ``pipeline`` chains them, ``training`` and ``evaluation`` train and
score them, ``cli`` is the command line.
"""

__version__ = "0.1.0"
