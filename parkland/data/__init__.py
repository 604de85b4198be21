"""Data files shipped with parkland (control indicators, industry-code crosswalks)."""
