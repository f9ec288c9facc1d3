"""sandex's FIX data dictionaries (QuickFIX format; docs/fix.md): ``TRANSPORT`` for
``TransportDataDictionary`` and ``APPLICATION`` for ``AppDataDictionary``. They list every
message and field the gateways send or take, Coinbase's custom tags included."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent
TRANSPORT = HERE / "FIXT11-sandex.xml"
APPLICATION = HERE / "FIX50SP2-sandex.xml"
