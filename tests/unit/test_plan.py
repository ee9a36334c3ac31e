"""The request planner on three differently shaped catalogs (DummyJSON, Best Buy without ids
and with category lists, an INR shop CSV with unit-bearing sizes), with the real embedding
model and the profiles ingestion computes."""

from __future__ import annotations

import re

import pytest

import tests.catalog_views as views
from catalog.models import Filters
from catalog.text import content_words
from service.answering.plan import Planner, RequestPlan
from service.answering.types import Turn
from tests.catalog_views import catalog_view, product_id
from tests.conftest import EPQA_DIR


@pytest.fixture(scope="module")
def planner(embeddings) -> Planner:
    return Planner(embeddings)


def plan(planner: Planner, catalog: str, message: str, **kwargs) -> RequestPlan:
    return planner.plan(message, [], catalog_view(catalog), **kwargs)


def titles(result: RequestPlan) -> list[str]:
    return [ref.title for ref in result.products]


# -- intents without products ------------------------------------------------------------------
@pytest.mark.parametrize("message", ["hello!", "thank you", "good morning", "bye for now"])
def test_small_talk_names_nothing(planner: Planner, message: str) -> None:
    result = plan(planner, "demo", message)
    assert result.intent == "small_talk"
    assert result.products == [] and result.filters.is_empty()


@pytest.mark.parametrize("message", ["what can you do?", "how does this assistant work?"])
def test_help(planner: Planner, message: str) -> None:
    assert plan(planner, "bestbuy", message).intent == "help"


@pytest.mark.parametrize(
    "message", ["what is the capital of Peru?", "tell me a joke about cats", "what's 12 times 7?"]
)
def test_out_of_scope(planner: Planner, message: str) -> None:
    assert plan(planner, "demo", message).intent == "out_of_scope"


# -- named products ----------------------------------------------------------------------------
def test_two_named_products_are_a_comparison_on_price(planner: Planner) -> None:
    result = plan(
        planner,
        "demo",
        "Is the Apple MacBook Pro 14 Inch Space Grey pricier than the Lenovo Yoga 920?",
    )
    assert result.intent == "compare"
    assert set(titles(result)) == {"Apple MacBook Pro 14 Inch Space Grey", "Lenovo Yoga 920"}
    assert result.compare_on == "price_desc"
    assert result.filters.is_empty()  # "Apple" named the product, not a brand filter


def test_partial_name_and_several_attributes(planner: Planner) -> None:
    view = catalog_view("demo")
    result = plan(
        planner, "demo", "what's the shipping and the return policy of the Calvin Klein CK One?"
    )
    assert result.intent == "attribute"
    assert [ref.product_id for ref in result.products] == [product_id(view, "Calvin Klein CK One")]
    assert {item.key for item in result.attributes} == {"shippingInformation", "returnPolicy"}


def test_stock_phrase_about_a_product_is_a_question_not_a_filter(planner: Planner) -> None:
    result = plan(planner, "inr", "Is the Powder Canister in stock?")
    assert result.intent == "attribute"
    assert [item.key for item in result.attributes] == ["availability"]
    assert result.filters.is_empty()


def _one_word_partial(planner: Planner, catalog: str, message: str) -> tuple[str, str]:
    """A title word that names one product by itself in ``message`` (a partial reference),
    and that product's id: picked from the catalog, not written here."""
    view = catalog_view(catalog)
    for entry in sorted(view.products.values(), key=lambda e: e.product_id):
        for word in sorted(set(content_words(entry.title))):
            if word.isalpha() and view.title_index.get(word) == {entry.product_id}:
                refs = plan(planner, catalog, message.format(word=word)).products
                if [(r.product_id, r.how, len(r.matched)) for r in refs] == [
                    (entry.product_id, "partial", 1)
                ]:
                    return word, entry.product_id
    raise AssertionError(f"no one-word partial reference in {catalog}")


@pytest.mark.parametrize("catalog", ["demo", "bestbuy"])
def test_one_shared_word_in_a_request_for_things_is_a_search(
    planner: Planner, catalog: str
) -> None:
    # "I want a mug for coffee" names no "Nescafe Coffee"; "what colour is the coffee?" does.
    asking = "what is the price of the {word}?"
    word, named = _one_word_partial(planner, catalog, asking)
    question = plan(planner, catalog, asking.format(word=word))
    assert question.intent == "attribute"
    assert [ref.product_id for ref in question.products] == [named]
    wanting = plan(planner, catalog, f"I'm looking for something to use with my {word}")
    assert wanting.intent in ("search", "recommend") and wanting.products == []


def test_a_model_number_the_catalog_lacks_names_nothing(planner: Planner) -> None:
    assert plan(planner, "demo", "how much is the Samsung Galaxy S99?").products == []


def test_long_titles_are_named_by_their_distinctive_words(planner: Planner) -> None:
    result = plan(planner, "bestbuy", "what does the Samsung Galaxy Express 3 cost?")
    assert result.intent == "attribute"
    assert "Samsung Galaxy Express 3" in result.products[0].title
    assert [item.key for item in result.attributes] == ["price"]


def test_a_mention_bridges_stopwords_to_more_words_of_the_name(planner: Planner) -> None:
    # The colour after "in" belongs to the name: it is neither a question nor a constraint.
    message = "What does the Honor 8 4G LTE with 32GB Memory in Sapphire blue cost?"
    result = plan(planner, "bestbuy", message)
    assert result.intent == "attribute"
    assert [ref.title for ref in result.products] == [
        "Huawei - Honor 8 4G LTE with 32GB Memory Cell Phone (Unlocked) - Sapphire blue"
    ]
    assert [item.key for item in result.attributes] == ["price"]


# -- follow-ups --------------------------------------------------------------------------------
def test_ordinal_and_pronoun_follow_ups(planner: Planner) -> None:
    view = catalog_view("demo")
    first, second = product_id(view, "Lenovo Yoga 920"), product_id(view, "Huawei Matebook X Pro")
    history = [
        Turn("user", "laptops"),
        Turn("assistant", f"1. Lenovo [{first}]\n2. Huawei [{second}]"),
    ]
    ordinal = planner.plan(
        "what's the warranty of the second one?", history, view, earlier=[first, second]
    )
    assert [ref.product_id for ref in ordinal.products] == [second]
    assert [item.key for item in ordinal.attributes] == ["warrantyInformation"]
    pronoun = planner.plan("how much is it?", history, view, earlier=[first])
    assert [ref.product_id for ref in pronoun.products] == [first]
    both = planner.plan("which of them is cheaper?", history, view, earlier=[first, second])
    assert both.intent == "compare" and both.compare_on == "price_asc"


def test_first_two_and_last_two_point_at_several_listed_products(planner: Planner) -> None:
    view = catalog_view("inr")
    listed = sorted(view.products)[:4]
    history = [Turn("user", "show me a few"), Turn("assistant", " ".join(f"[{p}]" for p in listed))]
    first = planner.plan("compare the first two", history, view, earlier=listed)
    assert first.intent == "compare" and [r.product_id for r in first.products] == listed[:2]
    last = planner.plan("which of the last 2 is cheaper?", history, view, earlier=listed)
    assert last.intent == "compare" and [r.product_id for r in last.products] == listed[-2:]
    # "them" after a list of more than a comparison's usual few: every listed product.
    listed = sorted(view.products)[:6]
    history[-1] = Turn("assistant", " ".join(f"[{p}]" for p in listed))
    them = planner.plan("which of them is the cheapest?", history, view, earlier=listed)
    assert them.intent == "compare" and them.compare_on == "price_asc"
    assert [r.product_id for r in them.products] == listed


def test_a_device_name_names_the_device_not_its_accessory(planner: Planner) -> None:
    # "Case for Google Pixel XL": words after "for" name what it fits. Pairs picked from the
    # Best Buy catalog: an accessory and another product whose own name holds those words.
    view = catalog_view("bestbuy")
    entries = sorted(view.products.values(), key=lambda e: e.product_id)
    checked = 0
    for accessory in entries:
        parts = re.split(r"\s+for\s+", accessory.title, maxsplit=1)
        if len(parts) < 2:
            continue
        device = parts[1].split(" - ")[0]
        wanted = set(content_words(device))
        if not wanted or any(w.isdigit() for w in wanted) or len(wanted) < 2:
            continue
        if not any(wanted <= e.subject_words for e in entries if e is not accessory):
            continue
        refs = plan(planner, "bestbuy", f"does the {device} come in blue?").products
        if refs:
            assert wanted <= view.products[refs[0].product_id].subject_words, (device, refs[0])
            checked += 1
        if checked == 10:
            break
    assert checked >= 5


@pytest.mark.parametrize("catalog", ["demo", "inr"])
def test_a_bare_superlative_after_a_list_ranks_the_listed_products(
    planner: Planner, catalog: str
) -> None:
    view = catalog_view(catalog)
    listed = sorted(view.products)[:5]
    history = [Turn("user", "show me a few"), Turn("assistant", " ".join(f"[{p}]" for p in listed))]
    for message, dimension in (
        ("which one is the cheapest?", "price_asc"),
        ("and the most expensive one?", "price_desc"),
    ):
        result = planner.plan(message, history, view, earlier=listed)
        assert result.intent == "compare" and result.compare_on == dimension
        assert [ref.product_id for ref in result.products] == listed
    # A superlative naming its own subject is over the catalog, not the list.
    category = next(c for c in sorted(view.categories) if view.categories[c].count > 1)
    own = planner.plan(f"the cheapest {category}", history, view, earlier=listed)
    assert own.intent == "search" and own.products == [] and own.sort == "price_asc"


# -- constraints in the catalog's currency and vocabulary ----------------------------------------
@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("lipstick under ₹500", {"max_price": 500.0, "category": "Lipstick"}),
        ("sofa for less than Rs. 1,50,000", {"max_price": 150000.0, "category": "Sofas"}),
        ("a 5 seater sofa below 90000 rupees", {"max_price": 90000.0, "category": "Sofas"}),
        ("mascara of 10 ml", {"category": "Mascara"}),  # a size, not a price
    ],
)
def test_inr_prices_and_units(planner: Planner, message: str, expected: dict) -> None:
    assert plan(planner, "inr", message).filters.model_dump(exclude_none=True) == expected


@pytest.mark.parametrize(
    ("catalog", "message", "expected"),
    [
        ("demo", "sports gear, nothing over 30 dollars", {"max_price": 30.0}),
        ("demo", "I don't want to spend more than $30 on sports gear", {"max_price": 30.0}),
        ("demo", "sports gear, not under $30", {"min_price": 30.0}),
        ("demo", "sports gear over $30", {"min_price": 30.0}),  # no negation: a floor
        ("demo", "no idea but under $30 please, sports gear", {"max_price": 30.0}),
        ("demo", "sports equipment below 30 dollars", {"max_price": 30.0}),  # "...nt" is no "n't"
        ("demo", "sports gear, I won\u2019t pay over $30", {"max_price": 30.0}),
        ("inr", "a sofa, nothing above ₹90,000", {"max_price": 90000.0}),
        ("inr", "a sofa for no less than 90000 rupees", {"min_price": 90000.0}),
    ],
)
def test_a_negated_bound_turns_around(
    planner: Planner, catalog: str, message: str, expected: dict
) -> None:
    filters = plan(planner, catalog, message).filters.model_dump(exclude_none=True)
    assert {key: filters.get(key) for key in ("min_price", "max_price") if key in filters} == (
        expected
    )


@pytest.mark.parametrize(
    ("catalog", "message", "expected"),
    [
        ("demo", "sports gear under twenty dollars", {"max_price": 20.0}),
        ("demo", "sports gear, nothing over fifty bucks", {"max_price": 50.0}),
        ("demo", "a phone for about two hundred bucks", {"min_price": 160.0, "max_price": 240.0}),
        ("demo", "which one is the cheapest phone?", {}),  # "one" is no price
        ("demo", "can I use the laptop on more than one desk?", {}),  # a count, not a price
        ("inr", "a sofa under fifty thousand rupees", {"max_price": 50000.0}),
    ],
)
def test_prices_in_words(planner: Planner, catalog: str, message: str, expected: dict) -> None:
    filters = plan(planner, catalog, message).filters.model_dump(exclude_none=True)
    assert {key: filters[key] for key in ("min_price", "max_price") if key in filters} == expected


@pytest.mark.parametrize(
    ("catalog", "message", "code"),
    [("demo", "laptops under €1000", "EUR"), ("inr", "a sofa under $900", "USD")],
)
def test_a_price_in_another_currency_is_not_applied(
    planner: Planner, catalog: str, message: str, code: str
) -> None:
    result = plan(planner, catalog, message)
    assert result.foreign_currency == code
    assert result.filters.max_price is None and result.filters.category is not None


def test_category_from_a_path_and_a_brand(planner: Planner) -> None:
    result = plan(planner, "bestbuy", "Samsung unlocked cell phones between $100 and $250")
    filters = result.filters.model_dump(exclude_none=True)
    assert filters == {
        "brand": "Samsung",
        "category": "Unlocked Cell Phones",
        "min_price": 100.0,
        "max_price": 250.0,
    }
    assert result.intent == "search"


def test_a_brand_inside_a_category_name_is_the_category(planner: Planner) -> None:
    # Best Buy has categories named after a brand's product line; picked from the catalog.
    view = catalog_view("bestbuy")
    named = [
        (category, key)
        for category in sorted(view.categories)
        for key, words in view.brand_words.items()
        if words and set(words) < set(category.lower().split())
    ]
    assert named, "a Best Buy category name holds a brand"
    for category, _ in named[:5]:
        filters = plan(planner, "bestbuy", f"what is the cheapest {category}?").filters
        assert filters.model_dump(exclude_none=True) == {"category": category}


def test_superlative_over_a_category(planner: Planner) -> None:
    result = plan(planner, "demo", "show me the most expensive sunglasses")
    assert result.sort == "price_desc"
    assert result.filters.category == "sunglasses"


@pytest.mark.parametrize("catalog", ["demo", "inr"])
def test_how_many_to_show(planner: Planner, catalog: str) -> None:
    view = catalog_view(catalog)
    category = next(c for c in sorted(view.categories) if view.categories[c].count > 3)
    rated = plan(planner, catalog, f"top 3 rated {category}")
    assert (rated.sort, rated.k, rated.filters.category) == ("rating_desc", 3, category)
    cheap = plan(planner, catalog, f"the 2 cheapest {category}")
    assert (cheap.sort, cheap.k, cheap.filters.category) == ("price_asc", 2, category)
    assert plan(planner, catalog, f"{category} for a 5g world").k == 5  # no count: the default
    # A number before a superlative that follows no determiner is a model or a size.
    assert plan(planner, catalog, f"{category} 7 cheapest").k == 5
    assert plan(planner, catalog, f"the cheapest 7 inch {category}").k == 5


def test_rating_only_on_a_catalog_with_ratings(planner: Planner) -> None:
    assert plan(planner, "demo", "phones rated 4 stars and up").filters.min_rating == 4.0
    assert plan(planner, "bestbuy", "phones rated 4 stars and up").filters.min_rating is None


def test_attribute_condition_from_the_records_values(planner: Planner) -> None:
    result = plan(planner, "demo", "furniture with a 2 year warranty")
    assert result.conditions and result.conditions[0]["key"] == "warrantyInformation"
    assert result.conditions[0]["value"] == "2 year warranty"


def test_explicit_filters_win(planner: Planner) -> None:
    result = plan(planner, "demo", "laptops under $500", explicit=Filters(max_price=2000))
    assert result.filters.max_price == 2000


def test_plan_is_exposed_as_a_dict(planner: Planner) -> None:
    shown = plan(planner, "demo", "cheapest smartphones").to_dict()
    assert shown["intent"] == "search" and shown["sort"] == "price_asc"
    assert shown["filters"] == {"category": "smartphones"}


def test_a_category_word_beside_a_named_product_is_no_second_product(
    planner: Planner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "stainless steel" is a category word here and names the ePQA sample's colander only
    # partly: beside the seat named in full it is part of the question about the seat.
    monkeypatch.setitem(views.CATALOGS, "epqa", EPQA_DIR / "products.jsonl")
    seat = "TOTO SC134#01 Elongated Commercial Toilet Seat, Cotton White"
    result = plan(planner, "epqa", f"About the {seat}: are its bolts stainless steel?")
    assert result.intent == "attribute" and titles(result) == [seat]


@pytest.mark.parametrize("catalog", ["demo", "bestbuy"])
def test_cheap_in_a_search_puts_low_prices_first(planner: Planner, catalog: str) -> None:
    # "cheap" is no word of any title: it was read as something the catalog lacks.
    for message in ("I want a cheap phone", "any affordable phones?"):
        result = plan(planner, catalog, message)
        assert (result.intent, result.sort, result.products) == ("search", "price_asc", [])


def test_cheap_about_a_named_product_asks_its_price(planner: Planner) -> None:
    result = plan(planner, "demo", "is the iPhone X affordable?")
    assert result.intent == "attribute" and titles(result) == ["iPhone X"]
    assert [attribute.key for attribute in result.attributes] == ["price"]
    assert result.sort is None


def _largest_category(catalog: str) -> str:
    view = catalog_view(catalog)
    return max(view.categories.values(), key=lambda category: category.count).name


@pytest.mark.parametrize("catalog", ["demo", "inr"])
def test_well_reviewed_in_a_search_puts_the_best_rated_first(
    planner: Planner, catalog: str
) -> None:
    # "highly rated beauty products" looked for products whose text says "highly".
    category = _largest_category(catalog)
    for message in (f"highly rated {category}", f"{category} with good reviews"):
        result = plan(planner, catalog, message)
        assert (result.intent, result.sort) == ("search", "rating_desc"), message
        assert result.filters.category == category
        said = {word for start, end in result.spans for word in content_words(message[start:end])}
        assert {"highly", "review"} & said, result.spans  # the phrase is no word to look for


def test_well_reviewed_without_ratings_says_it_cannot_order(planner: Planner) -> None:
    result = plan(planner, "bestbuy", f"well reviewed {_largest_category('bestbuy')}")
    assert result.sort is None and result.scale is not None
    assert (result.scale.word, result.scale.key) == ("well reviewed", None)


def test_well_reviewed_about_a_named_product_asks_its_rating(planner: Planner) -> None:
    result = plan(planner, "demo", "is the iPhone X well reviewed?")
    assert result.intent == "attribute" and titles(result) == ["iPhone X"]
    assert [attribute.key for attribute in result.attributes] == ["rating"]


def test_a_phrase_naming_products_in_part_is_a_search(planner: Planner) -> None:
    # "gold iphone 6s" was an overview of one of its many variants, "green lipstick" a
    # question on the "Red Lipstick" ("nothing answers it").
    view = catalog_view("bestbuy")
    holders = {w: view.title_index.get(w, set()) for w in ("iphone", "6s", "gold")}
    assert len(set.intersection(*holders.values())) > 1
    assert plan(planner, "bestbuy", "gold iphone 6s").intent == "search"
    demo = catalog_view("demo")
    two = [
        e
        for e in demo.products.values()
        if len(e.title.split()) == 2
        and len(demo.title_index.get(e.title.split()[1].lower(), ())) == 1
    ]
    assert two
    entry = two[0]
    head = entry.title.split()[1].lower()
    other = next(
        w
        for w in sorted(demo.title_index)
        if w.isalpha()
        and len(w) > 3
        and w not in entry.title.lower()
        and w not in demo.category_terms
        and not any(w in words for words in demo.brand_words.values())
    )
    result = plan(planner, "demo", f"{other} {head}")
    assert (result.intent, result.products) == ("search", []), (other, head)
    asked = plan(planner, "demo", f"how much is the {head}?")  # a question stays on it
    assert asked.intent == "attribute" and titles(asked) == [entry.title]
    # A one-word title with a word of a kind before it ("wooden spoon"), but not with an
    # amount or a bound after it.
    one = next(
        e
        for e in demo.products.values()
        if " " not in e.title and len(demo.title_index.get(e.title.lower(), ())) == 1
    )
    assert plan(planner, "demo", f"{other} {one.title.lower()}").intent == "search"
    from service.answering.intent_rules import loosely_named
    from service.answering.references import named_products

    rupees = catalog_view("inr")
    checked = 0
    for entry in rupees.products.values():
        amount = str(rupees.record(entry.product_id).get("attributes", {}).get("Quantity", ""))
        word = entry.title.lower()
        if " " not in word and len(rupees.title_index.get(word, ())) == 1 and amount[:1].isdigit():
            said = f"{word} of {amount}"  # an amount is no word of a kind
            (ref,) = named_products(said, rupees)
            assert not loosely_named(said, ref, rupees, []), said
            assert loosely_named(f"organic {said}", ref, rupees, [])
            checked += 1
    assert checked >= 5


@pytest.mark.parametrize("catalog", ["demo", "inr"])
def test_what_someone_likes_is_what_a_gift_search_looks_for(planner: Planner, catalog: str) -> None:
    # "a gift for my sister who likes makeup" looked for "gift sister likes makeup" and found
    # nothing; it seeks makeup. A thing the catalog sells before the clause is kept.
    from service.answering.relaxing import retrievable

    view = catalog_view(catalog)
    category = _largest_category(catalog)
    terms = view.categories[category].terms
    liked = next(t for t in terms if t.isalpha() and len(t) > 3 and t in view.title_index)
    for opener in ("who likes", "who loves", "that is into"):
        result = plan(planner, catalog, f"a gift for my sister {opener} {liked}")
        assert retrievable(result) == liked, (opener, result.spans)
    head = _largest_category("demo" if catalog == "inr" else "inr")  # no word of this catalog
    kept = plan(planner, catalog, f"a {liked} for my dad who likes {head}")
    assert liked in retrievable(kept).split()
    assert plan(planner, catalog, "a gift for my sister who likes").spans == []


def test_a_yes_no_question_on_a_variant_word_lists_the_variants(planner: Planner) -> None:
    # "is the Galaxy S7 edge unlocked?" was an overview of one unlocked variant, not an answer.
    view = catalog_view("bestbuy")
    checked = 0
    for word, number in sorted(view.model_pairs):
        line = view.title_index.get(word, set()) & view.title_index.get(number, set())
        if not word.isalpha() or len(line) < 6 or number.isalpha():
            continue
        counts: dict[str, int] = {}
        for pid in line:
            for w in view.products[pid].title_words:
                counts[w] = counts.get(w, 0) + 1
        some = [
            w for w, c in sorted(counts.items()) if w.isalpha() and len(w) > 3 and c < len(line) / 2
        ]
        if not some:
            continue
        result = plan(planner, "bestbuy", f"is the {word} {number} {some[0]}?")
        assert (result.intent, result.products) == ("search", []), (word, number, some[0])
        checked += 1
        if checked == 4:
            break
    assert checked == 4
