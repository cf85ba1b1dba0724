"""SIMMC 2.0 / 2.1 (DSTC10 / DSTC11): scene-grounded shopping dialogs, built for recommendation."""
