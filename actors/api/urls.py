from . import users, views


def register(router) -> None:
    router.register(
        "regional-health-authorities", views.RegionalHealthAuthorityViewSet, basename="rha"
    )
    router.register("health-trusts", views.HealthTrustViewSet, basename="healthtrust")
    router.register("counties", views.CountyViewSet, basename="county")
    router.register("municipalities", views.MunicipalityViewSet, basename="municipality")
    router.register("vendors", views.VendorViewSet)
    router.register("organisations", views.OrganisationViewSet, basename="organisation")
    router.register(
        "organisation-changes", views.OrganisationChangeViewSet, basename="organisationchange"
    )
    router.register("jobs", views.JobViewSet, basename="job")
    router.register("users", users.UserViewSet, basename="user")
    router.register("invitations", users.InvitationViewSet, basename="invitation")
