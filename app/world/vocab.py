"""Vocabularies of the demo world: German people and places, grid operators, products, ticket texts.

Enneo's enums (domain.md §3) are kept as tuples so generators and tests share one spelling.
"""

from __future__ import annotations

from typing import NamedTuple

CHANNELS = ("email", "portal", "phone", "letter", "system", "chat", "walkIn")
STATUSES = ("open", "pending", "closed")
PRIORITIES = ("low", "medium", "high", "urgent")
DIRECTIONS = ("in", "out", "internal")

SUPPLIER_SERVICE_NAME = "Kundenservice Lumen Energie"
SUPPLIER_SERVICE_ADDR = "service@lumen-energie.de"

FIRST_NAMES = (
    "Anna", "Andreas", "Birgit", "Bernd", "Claudia", "Christian", "Doris", "Dieter", "Elke",
    "Emil", "Franziska", "Frank", "Gabriele", "Günter", "Hannah", "Heinz", "Ines", "Jan",
    "Jörg", "Jürgen", "Katharina", "Klaus", "Laura", "Lukas", "Maria", "Michael", "Nadine",
    "Niklas", "Özlem", "Peter", "Petra", "Ralf", "Sabine", "Stefan", "Tanja", "Thomas",
    "Ursula", "Uwe", "Vanessa", "Wolfgang", "Yvonne", "Zoe", "Lea", "Leon", "Mia", "Tom",
    "Sophie", "Felix", "Renate", "Horst", "Monika", "Sebastian", "Julia", "Tobias", "Ayşe",
    "Dmitri", "Agnieszka", "Marco", "Helga", "Karl",
)  # fmt: skip

LAST_NAMES = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
    "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder",
    "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange",
    "Schmitt", "Werner", "Schmitz", "Krause", "Meier", "Lehmann", "Schmid", "Schulze",
    "Maier", "Köhler", "Herrmann", "König", "Walter", "Mayer", "Huber", "Kaiser", "Fuchs",
    "Peters", "Lang", "Scholz", "Möller", "Weiß", "Jung", "Hahn", "Vogel", "Friedrich",
    "Keller", "Günther", "Frank", "Berger", "Winkler", "Roth", "Beck", "Lorenz", "Baumann",
    "Yılmaz", "Kowalski", "Nowak", "Mustermann",
)  # fmt: skip

COMPANY_PATTERNS = (
    "Bäckerei {last}",
    "Malerbetrieb {last} GmbH",
    "{last} Immobilien GmbH",
    "Praxis Dr. {last}",
    "{last} & Partner Steuerberater",
    "Autohaus {last} KG",
    "Elektro {last} e.K.",
    "Café {first}",
)

STREETS = (
    "Hauptstraße", "Schulstraße", "Gartenstraße", "Bahnhofstraße", "Dorfstraße", "Bergstraße",
    "Birkenweg", "Lindenstraße", "Kirchstraße", "Waldstraße", "Ringstraße", "Schillerstraße",
    "Goethestraße", "Am Markt", "Hugo-Junkers-Str.", "Mozartstraße", "Rosenweg", "Wiesenweg",
    "Friedrichstraße", "Feldstraße", "Am Sonnenhang", "Uhlandstraße", "Kastanienallee",
    "Parkstraße",
)  # fmt: skip

EMAIL_DOMAINS = ("web.de", "gmx.de", "t-online.de", "gmail.com", "posteo.de", "outlook.de")
MOBILE_PREFIXES = ("151", "152", "160", "170", "172", "176", "179")


class City(NamedTuple):
    """A place with the operators of its electricity and gas grids."""

    postcode: str
    name: str
    area_code: str
    electricity_grid: str
    gas_grid: str


CITIES = (
    City("10115", "Berlin", "30", "Stromnetz Berlin GmbH",
         "NBB Netzgesellschaft Berlin-Brandenburg mbH & Co. KG"),
    City("20095", "Hamburg", "40", "Stromnetz Hamburg GmbH", "Gasnetz Hamburg GmbH"),
    City("80331", "München", "89", "SWM Infrastruktur GmbH & Co. KG",
         "SWM Infrastruktur GmbH & Co. KG"),
    City("82031", "Grünwald", "89", "E.ON Bayern AG", "Energienetze Bayern GmbH & Co. KG"),
    City("70173", "Stuttgart", "711", "Stuttgart Netze GmbH", "Stuttgart Netze GmbH"),
    City("73728", "Esslingen am Neckar", "711", "Netze BW GmbH", "Netze BW GmbH"),
    City("50667", "Köln", "221", "Rheinische NETZGesellschaft mbH",
         "Rheinische NETZGesellschaft mbH"),
    City("60311", "Frankfurt am Main", "69", "Netzdienste Rhein-Main GmbH",
         "Netzdienste Rhein-Main GmbH"),
    City("01067", "Dresden", "351", "SachsenNetze GmbH", "SachsenNetze GmbH"),
    City("04109", "Leipzig", "341", "Netz Leipzig GmbH", "Netz Leipzig GmbH"),
    City("30159", "Hannover", "511", "enercity Netz GmbH", "enercity Netz GmbH"),
    City("90402", "Nürnberg", "911", "N-ERGIE Netz GmbH", "N-ERGIE Netz GmbH"),
    City("44135", "Dortmund", "231", "Dortmunder Netz GmbH", "Dortmunder Netz GmbH"),
    City("45127", "Essen", "201", "Westnetz GmbH", "Westnetz GmbH"),
    City("28195", "Bremen", "421", "wesernetz Bremen GmbH", "wesernetz Bremen GmbH"),
    City("68159", "Mannheim", "621", "MVV Netze GmbH", "MVV Netze GmbH"),
    City("53111", "Bonn", "228", "Bonn-Netz GmbH", "Bonn-Netz GmbH"),
    City("48143", "Münster", "251", "Stadtnetze Münster GmbH", "Stadtnetze Münster GmbH"),
)  # fmt: skip

PRODUCTS = {
    "electricity": (
        "Ökostrom Flex", "Strom Basis 12", "Strom Fix 24", "Ökostrom Fix 12", "Wärmestrom Flex",
        "Autostrom Plus",
    ),
    "gas": ("Erdgas Flex", "Erdgas Fix 24", "Klimagas 12", "Biogas 10"),
}  # fmt: skip

EMAIL_SUBJECTS = (
    "Frage zu meiner Abschlagszahlung", "Zählerstand", "Jahresabrechnung – Nachzahlung zu hoch?",
    "Bankverbindung ändern", "Preisanpassung – Widerspruch", "Vertragsbestätigung fehlt",
    "Zählerwechsel angekündigt", "Abschlag anpassen", "SEPA-Mandat", "Rechnung nicht erhalten",
    "Gutschrift noch nicht überwiesen", "Namensänderung nach Heirat", "Kündigungsbestätigung?",
)  # fmt: skip
PORTAL_SUBJECTS = (
    "Zählerstand übermittelt", "Abschlagsänderung", "Bankdaten geändert", "Adressänderung",
    "Rückfrage zur Rechnung", "Vertragsdokumente anfordern",
)  # fmt: skip
PHONE_SUBJECTS = (
    "Rückrufbitte", "Anruf: Frage zur Abschlagszahlung", "Anruf: Zählerstand durchgegeben",
    "Anruf: Beschwerde Rechnung",
)  # fmt: skip
LETTER_SUBJECTS = (
    "Brief: Widerspruch Jahresabrechnung", "Brief: SEPA-Lastschriftmandat",
    "Brief: Vollmacht Betreuung", "Brief: Zählerstandskarte",
)  # fmt: skip
SYSTEM_SUBJECTS = (
    "Zählerstand fehlt – Erinnerung", "Lastschrift zurückgegangen", "Abschlagsplan erstellt",
    "Jahresabrechnung versendet",
)  # fmt: skip
WALK_IN_SUBJECTS = (
    "Besuch im Kundencenter: Rechnung", "Besuch im Kundencenter: Vertragsabschluss",
    "Besuch im Kundencenter: Zählerstand",
)  # fmt: skip

MISSED_CALL = "missedCall"
MOVE_OUT_SUBJECT = "Umzug / Kündigung"
SWITCH_SUBJECTS = ("Bestätigung Anbieterwechsel", "Wann startet die Belieferung?")
REJECTION_FOLLOW_UP_SUBJECT = "Marktlokations-ID / Zählernummer"
FINAL_INVOICE_SUBJECT = "Schlussrechnung erstellt"

UNKNOWN_SENDERS = (
    ("email", "Solarprofi24", "angebot@solarprofi24.example", "Ihr Angebot für eine PV-Anlage"),
    ("email", None, "noreply@paketdienst.example", "Zustellung Ihrer Sendung"),
    ("email", "Hausverwaltung Nord", "info@hv-nord.example", "Mieterwechsel Wohnung 3. OG"),
    ("phone", None, "+49 176 55501234", MISSED_CALL),
    ("letter", None, None, "Brief: Absender unbekannt"),
)


class Subchannel(NamedTuple):
    """A mailbox, chat or phone line of the helpdesk (domain.md §3.4)."""

    id: int
    channel: str
    key: str
    name: str


SUPPORT_MAIL = Subchannel(1, "email", "support-mail", "Kundenservice-Postfach")
WEBSITE_CHAT = Subchannel(2, "chat", "website-chat", "Website-Chat")
FACEBOOK = Subchannel(3, "chat", "facebook", "Facebook Messenger")
HOTLINE = Subchannel(4, "phone", "hotline", "Service-Hotline")
CUSTOMER_PORTAL = Subchannel(5, "portal", "kundenportal", "Kundenportal")
SUBCHANNELS = (SUPPORT_MAIL, WEBSITE_CHAT, FACEBOOK, HOTLINE, CUSTOMER_PORTAL)
