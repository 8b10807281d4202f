import factory
from stdnum.no import orgnr as stdnum_orgnr

from actors.models import HealthTrust, Municipality, Organisation, OrganisationType, User


def valid_orgnr(n: int) -> str:
    """The n-th valid organisation number in a range no real organisation uses."""
    candidate = 20_000_000 + n * 3
    while True:
        body = str(candidate)
        check = (-stdnum_orgnr.checksum(body + "0")) % 11
        if check != 10:
            return body + str(check)
        candidate += 1


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    password = factory.django.Password("secret-pass-123")

    @factory.post_generation
    def municipalities(self, create, numbers, **kwargs):
        if create and numbers:
            self.municipalities.set(Municipality.objects.filter(number__in=numbers))

    @factory.post_generation
    def health_trusts(self, create, codes, **kwargs):
        if create and codes:
            self.health_trusts.set(HealthTrust.objects.filter(code__in=codes))


class ExistingMunicipality(factory.django.DjangoModelFactory):
    """Looks up a municipality of the loaded reference data by number."""

    class Meta:
        model = Municipality
        django_get_or_create = ["number"]

    number = "4601"


class OrganisationFactory(factory.django.DjangoModelFactory):
    """Saved through full_clean, so the health-trust area is derived as in the services."""

    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisasjon {n}")
    orgnr = factory.Sequence(valid_orgnr)
    type = factory.LazyFunction(lambda: OrganisationType.objects.get(code="fastlegekontor"))
    municipality = factory.SubFactory(ExistingMunicipality)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        organisation = model_class(*args, **kwargs)
        organisation.full_clean()
        organisation.save()
        return organisation
