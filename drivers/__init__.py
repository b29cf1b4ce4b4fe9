"""The library layer: one package per peripheral kind, no Kivy imports anywhere below here."""
