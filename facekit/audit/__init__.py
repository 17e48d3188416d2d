"""Checks that prove facekit's privacy promises on the machine at hand."""
