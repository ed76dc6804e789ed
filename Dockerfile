FROM python:3.11-slim-bookworm
# LibreOffice converts DOC/WPS for the parser, Tesseract reads scans; the CJK fonts render PDFs and portal pages.
RUN apt-get update && apt-get install -y --no-install-recommends \
        libreoffice-writer-nogui fonts-noto-cjk curl tesseract-ocr tesseract-ocr-chi-sim \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY shared shared
COPY services services
COPY samples samples
COPY samples-registry.csv .
RUN pip install --no-cache-dir . flower
USER nobody
