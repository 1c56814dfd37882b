"""Synthetic bank statements in 1CClientBankExchange, written by hand (standard library only).

Deliberately independent of ``b24app.bank``: it shares no code with the parser or the writer, so a
bug in one cannot hide in the other (and the sandbox's future "bank" can take it over as is).

Files are built as lists of lines, so a test can break one line and ask for its 1-based number with
:func:`line_of`; :func:`encode` then writes them in cp1251, cp866 or UTF-8 with CRLF or LF.

All identifiers are constructed for the tests (valid check digits, not real organisations):
our account 40702810600000000001 at БИК 044525999, a supplier with ИНН 7700000016 and one with
ИНН 500100732259.
"""

from __future__ import annotations

OUR_ACCOUNT = "40702810600000000001"
OUR_INN = "7707000015"
OUR_BIK = "044525999"
OUR_CORR = "30101810600000000999"
SUPPLIER_INN = "7700000016"
SUPPLIER_ACCOUNT = "40702810000000012345"
SUPPLIER_BIK = "044030777"
SUPPLIER_CORR = "30101810800000000777"
TRADER_INN = "500100732259"
TRADER_ACCOUNT = "40802810600000000042"
CUSTOMER_INN = "5042000001"
CUSTOMER_ACCOUNT = "40702810400000000777"


def outgoing(number: str, day: str, amount: str, purpose: str, *, inn: str = SUPPLIER_INN,
             account: str = SUPPLIER_ACCOUNT, extra: tuple[str, ...] = ()) -> list[str]:
    """A payment that left our account (``ДатаСписано`` set)."""
    return [
        "СекцияДокумент=Платежное поручение", f"Номер={number}", f"Дата={day}", f"Сумма={amount}",
        f"ПлательщикСчет={OUR_ACCOUNT}", f"ДатаСписано={day}", f"Плательщик=ИНН {OUR_INN} ООО \"Заказчик\"",
        f"ПлательщикИНН={OUR_INN}", "ПлательщикКПП=770701001", "Плательщик1=ООО \"Заказчик\"",
        f"ПлательщикРасчСчет={OUR_ACCOUNT}", "ПлательщикБанк1=АО \"ТЕСТБАНК\"", "ПлательщикБанк2=г. Москва",
        f"ПлательщикБИК={OUR_BIK}", f"ПлательщикКорсчет={OUR_CORR}",
        f"ПолучательСчет={account}", "ДатаПоступило=", f"Получатель=ИНН {inn} Поставщик",
        f"ПолучательИНН={inn}", "Получатель1=Поставщик", f"ПолучательРасчСчет={account}",
        "ПолучательБанк1=ПАО \"ДРУГОЙ БАНК\"", "ПолучательБанк2=г. Санкт-Петербург",
        f"ПолучательБИК={SUPPLIER_BIK}", f"ПолучательКорсчет={SUPPLIER_CORR}",
        "ВидОплаты=01", "Очередность=5", f"НазначениеПлатежа={purpose}", *extra, "КонецДокумента",
    ]


def incoming(number: str, day: str, amount: str, purpose: str) -> list[str]:
    """A payment that reached our account (``ДатаПоступило`` set, no ``ДатаСписано``)."""
    return [
        "СекцияДокумент=Платежное поручение", f"Номер={number}", f"Дата={day}", f"Сумма={amount}",
        f"ПлательщикСчет={CUSTOMER_ACCOUNT}", "ДатаСписано=", f"ПлательщикИНН={CUSTOMER_INN}",
        "Плательщик1=ООО \"Покупатель\"", f"ПолучательСчет={OUR_ACCOUNT}", f"ДатаПоступило={day}",
        f"ПолучательИНН={OUR_INN}", "Получатель1=ООО \"Заказчик\"", f"НазначениеПлатежа={purpose}",
        "КонецДокумента",
    ]


def statement(documents: list[list[str]], *, version: str = "1.03", encoding: str = "Windows",
              day_from: str = "01.03.2025", day_to: str = "05.03.2025", unknown_keys: bool = True,
              opening: str = "150000.00", closing: str = "98765.43") -> list[str]:
    """A bank's statement: header, our balance section, the documents, ``КонецФайла``."""
    header = [
        "1CClientBankExchange", f"ВерсияФормата={version}", f"Кодировка={encoding}",
        "Отправитель=Тестбанк Онлайн", "Получатель=Бухгалтерия предприятия", "ДатаСоздания=06.03.2025",
        "ВремяСоздания=09:15:00", f"ДатаНачала={day_from}", f"ДатаКонца={day_to}", f"РасчСчет={OUR_ACCOUNT}",
    ]
    if unknown_keys:
        header.append("ИдентификаторВыгрузки=ab12-cd34")
    balances = [
        "СекцияРасчСчет", f"ДатаНачала={day_from}", f"ДатаКонца={day_to}", f"РасчСчет={OUR_ACCOUNT}",
        f"НачальныйОстаток={opening}", "ВсегоПоступило=12000.00", "ВсегоСписано=63234.57",
        f"КонечныйОстаток={closing}", *(["ОстатокВВалюте=0.00"] if unknown_keys else []), "КонецРасчСчет",
    ]
    lines = header + balances
    for doc in documents:
        lines += doc
    return [*lines, "КонецФайла"]


def encode(lines: list[str], charset: str = "cp1251", *, newline: str = "\r\n", bom: bool = False) -> bytes:
    data = (newline.join(lines) + newline).encode(charset)
    return b"\xef\xbb\xbf" + data if bom else data


def line_of(lines: list[str], text: str, occurrence: int = 1) -> int:
    """The 1-based line number of the ``occurrence``-th line equal to ``text``."""
    found = [n for n, line in enumerate(lines, start=1) if line == text]
    return found[occurrence - 1]


def replaced(lines: list[str], old: str, new: str) -> list[str]:
    """The lines with the first line equal to ``old`` replaced by ``new``."""
    index = lines.index(old)
    return [*lines[:index], new, *lines[index + 1:]]


def without(lines: list[str], text: str, occurrence: int = 1) -> list[str]:
    """The lines without the ``occurrence``-th line equal to ``text``."""
    index = line_of(lines, text, occurrence) - 1
    return [*lines[:index], *lines[index + 1:]]


def typical() -> list[str]:
    """Two payments out (one to a supplier, one to a sole trader), one in, unknown keys."""
    return statement([
        outgoing("501", "03.03.2025", "1000.50", "Оплата по счёту № А-15 от 01.03.2025 (заявка №12)",
                 extra=("КодБанкаСвой=77",)),
        incoming("88", "04.03.2025", "12000.00", "Оплата по договору 7"),
        outgoing("502", "04.03.2025", "250", "Оплата по счету 44 от 02.03.2025. НДС не облагается",
                 inn=TRADER_INN, account=TRADER_ACCOUNT),
    ])
