"""Words that follow numbers without making them prices.

The unit list is general (SI, imperial, digital, time and packaging units); each catalog adds
the unit words its own texts put after numbers (``CatalogProfile.units``, learned at ingest).
"""

from __future__ import annotations

# A short general list: measurement, digital, time, count and packaging units. Words that are
# also common English words after numbers ("in", "a", "s") are left out on purpose.
_UNIT_WORDS = """
    mg g gm gms gram grams kg kgs kilo kilos kilogram kilograms lb lbs pound pounds oz ounce
    ounces ton tons tonne tonnes carat carats ml mls millilitre millilitres milliliter
    milliliters l ltr ltrs litre litres liter liters cl dl gal gallon gallons floz fl qt quart
    quarts pint pints cup cups tsp tbsp mm cm m metre metres meter meters km inch inches ft foot
    feet yd yard yards mile miles sqft sqm kb mb gb tb mbps gbps ghz mhz hz kbps mp megapixel
    megapixels mah wh kwh w watt watts kw v volt volts amp amps fps dpi ppi bit bits core cores
    sec secs second seconds min mins minute minutes hr hrs hour hours day days week weeks month
    months year years yr yrs pc pcs piece pieces pack packs pk set sets pair pairs count ct
    unit units item items roll rolls sheet sheets page pages ply tablet tablets capsule capsules
    serving servings bottle bottles can cans box boxes bag bags jar jars dozen seater seaters
    seat seats person persons people burner burners door doors drawer drawers shelf shelves tier
    tiers layer layers speed speeds port ports star stars percent % deg degree degrees °c °f
"""
GENERAL_UNITS = frozenset(_UNIT_WORDS.split())
# Packaging words that come before the number: "pack of 6", "set of 4".
_COUNT_WORDS = "pack packs set sets box boxes case pair pairs bundle lot combo kit"
COUNT_NOUNS = frozenset(_COUNT_WORDS.split())
