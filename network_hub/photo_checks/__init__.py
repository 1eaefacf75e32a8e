"""PDPA in photos: read the text in stored photos (Tesseract, Thai + English) and run the same
detectors as for the body text (``newsroom.pdpa``), with the region of the photo for each finding.

``ocr`` reads words with boxes, ``detect`` turns them into findings, ``checks`` is the table of
per-photo checks filled at submission and worked off the request path by ``worker``.
"""
