"""Third-party strings whose Norwegian bokmål translation lives in our own catalogue.

Django's, django-filter's, django-axes' and DRF authtoken's Norwegian bokmål catalogues
lack these strings (django-filter and django-axes ship none at all), so they showed in
English on our pages and in the admin. Our catalogue (locale/nb, LOCALE_PATHS) takes
precedence over the packages' catalogues, so translating them there fills the gaps; but
`makemessages --no-obsolete` keeps only msgids it finds in our source, hence this module.
Each msgid is written exactly as the package writes it (punctuation, typographic
apostrophes, placeholders). `gettext_noop` marks a plain string; plurals are marked with
`ngettext_lazy(singular, plural, 1)` (Django has no `ngettext_noop`; contexts would take
`pgettext_lazy`, there is no `pgettext_noop`), which only creates a lazy object. Nothing
imports this module; it is only read by `makemessages`.

Regenerate the list when upgrading one of these packages:
- Django: with polib, every (msgctxt, msgid) of
  django/{conf,contrib/admin,contrib/auth,contrib/postgres}/locale/en/LC_MESSAGES/django.po
  that the same package's locale/nb/LC_MESSAGES/django.po lacks, or holds empty or fuzzy
  (language names of django/conf left out: our users never see them). For example:
      nb = {(e.msgctxt, e.msgid) for e in polib.pofile(nb_po) if e.translated()}
      gaps = [e for e in polib.pofile(en_po) if (e.msgctxt, e.msgid) not in nb]
- django-filter and django-axes: every msgid of their locale/de/LC_MESSAGES/django.po
  (the same set in every language), plus axes' gettext calls in axes/models.py and
  axes/admin.py that the de catalogue lacks.
- DRF: the strings of rest_framework/authtoken (apps.py, models.py, admin.py,
  serializers.py) that rest_framework/locale/nb/LC_MESSAGES/django.mo lacks or leaves
  in English.
Then run `make messages` and translate the new entries in locale/nb.
"""

from django.utils.translation import gettext_noop, ngettext_lazy

DJANGO = (
    # django/contrib/admin
    gettext_noop("Select this object for an action - {}"),
    gettext_noop("Breadcrumbs"),
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    gettext_noop("After you’ve created a user, you’ll be able to edit more user options."),
    gettext_noop("Error:"),
    gettext_noop("Set password"),
    gettext_noop(
        "This action will <strong>enable</strong> password-based authentication for this user."
    ),
    gettext_noop("Disable password-based authentication"),
    gettext_noop("Enable password-based authentication"),
    gettext_noop("Skip to main content"),
    gettext_noop("Hide counts"),
    gettext_noop("Show counts"),
    gettext_noop("Toggle theme (current theme: auto)"),
    gettext_noop("Toggle theme (current theme: light)"),
    gettext_noop("Toggle theme (current theme: dark)"),
    gettext_noop("Added:"),
    gettext_noop("Changed:"),
    gettext_noop("Deleted:"),
    gettext_noop("Forgotten your login credentials?"),
    gettext_noop("Sidebar"),
    gettext_noop("Start typing to filter…"),
    gettext_noop("Filter navigation items"),
    gettext_noop("View selected %(model)s"),
    gettext_noop("Thanks for spending some quality time with the web site today."),
    gettext_noop("In case you’ve forgotten, you are:"),
    gettext_noop("Select all objects on this page for an action"),
    # django/contrib/auth
    gettext_noop("Conflicting form data submitted. Please try again."),
    gettext_noop("Password-based authentication was disabled."),
    gettext_noop("Set password: %s"),
    gettext_noop("Reset password"),
    gettext_noop(
        "Whether the user will be able to authenticate using a password or not. If disabled, "
        "they may still be able to authenticate using other backends, such as Single Sign-On "
        "or LDAP."
    ),
    gettext_noop("Password-based authentication"),
    gettext_noop("Enabled"),
    gettext_noop("Disabled"),
    gettext_noop("Raw passwords are not stored, so there is no way to see the user’s password."),
    gettext_noop("Enable password-based authentication for this user by setting a password."),
    gettext_noop(
        "Enter a valid username. This value may contain only unaccented lowercase a-z and "
        "uppercase A-Z letters, numbers, and @/./+/-/_ characters."
    ),
    # django/conf (core validators and model fields)
    gettext_noop("Enter a valid domain name."),
    gettext_noop("Enter a valid %(protocol)s address."),
    gettext_noop("IPv4"),
    gettext_noop("IPv6"),
    gettext_noop("IPv4 or IPv6"),
    gettext_noop(
        "Ensure this value is a multiple of step size %(limit_value)s, starting from "
        "%(offset)s, e.g. %(offset)s, %(valid_value1)s, %(valid_value2)s, and so on."
    ),
    gettext_noop("String (unlimited)"),
    gettext_noop("%(model)s instance with %(field)s %(value)r is not a valid choice."),
    # django/contrib/postgres
    gettext_noop("Ensure that the upper bound of the range is not greater than %(limit_value)s."),
    gettext_noop("Ensure that the lower bound of the range is not less than %(limit_value)s."),
)

DJANGO_PLURALS = (
    # django/contrib/admin (object history)
    ngettext_lazy("entry", "entries", 1),
    # django/contrib/auth (MinimumLengthValidator)
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
        1,
    ),
)

DJANGO_FILTER = (
    gettext_noop("date"),
    gettext_noop("year"),
    gettext_noop("month"),
    gettext_noop("day"),
    gettext_noop("week day"),
    gettext_noop("hour"),
    gettext_noop("minute"),
    gettext_noop("second"),
    gettext_noop("contains"),
    gettext_noop("is in"),
    gettext_noop("is greater than"),
    gettext_noop("is greater than or equal to"),
    gettext_noop("is less than"),
    gettext_noop("is less than or equal to"),
    gettext_noop("starts with"),
    gettext_noop("ends with"),
    gettext_noop("is in range"),
    gettext_noop("is null"),
    gettext_noop("matches regex"),
    gettext_noop("search"),
    gettext_noop("is contained by"),
    gettext_noop("overlaps"),
    gettext_noop("has key"),
    gettext_noop("has keys"),
    gettext_noop("has any keys"),
    gettext_noop("Select a lookup."),
    gettext_noop("Range query expects two values."),
    gettext_noop("Today"),
    gettext_noop("Yesterday"),
    gettext_noop("Past 7 days"),
    gettext_noop("This month"),
    gettext_noop("This year"),
    gettext_noop("Multiple values may be separated by commas."),
    gettext_noop("%s (descending)"),
    gettext_noop("Ordering"),
    gettext_noop("Submit"),
    gettext_noop("Field filters"),
    gettext_noop("exclude"),
    gettext_noop("All"),
    gettext_noop("Unknown"),
    gettext_noop("Yes"),
    gettext_noop("No"),
)

AXES = (
    # its de catalogue
    gettext_noop("Form Data"),
    gettext_noop("Meta Data"),
    gettext_noop("Account locked: too many login attempts. Please try again later."),
    gettext_noop(
        "Account locked: too many login attempts. Contact an admin to unlock your account."
    ),
    gettext_noop("User Agent"),
    gettext_noop("IP Address"),
    gettext_noop("Username"),
    gettext_noop("HTTP Accept"),
    gettext_noop("Path"),
    gettext_noop("Attempt Time"),
    gettext_noop("Access lock out"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("GET Data"),
    gettext_noop("POST Data"),
    gettext_noop("Failed Logins"),
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("Logout Time"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
    # axes/models.py and axes/admin.py, missing from the de catalogue
    gettext_noop("Locked Out"),
    gettext_noop("Clean up expired attempts"),
    gettext_noop("Not set"),
    gettext_noop("Attempt Remaining"),
    gettext_noop("Access Attempt"),
    gettext_noop("Expires At"),
    gettext_noop("The time when access attempt expires and is no longer valid."),
    gettext_noop("access attempt expiration"),
    gettext_noop("access attempt expirations"),
    gettext_noop("Session key hash (sha256)"),
)

DRF_AUTHTOKEN = (
    # the app's verbose name; DRF's nb catalogue "translates" it as "Auth Token"
    gettext_noop("Auth Token"),
)
