from django.urls import path

from mash.accounts import views

app_name = "accounts"

urlpatterns = [
    path("sign-in/", views.SignInView.as_view(), name="sign_in"),
    path("sign-out/", views.SignOutView.as_view(), name="sign_out"),
    path("signed-out/", views.signed_out, name="signed_out"),
    path("sign-in/two-factor/", views.two_factor_verify, name="two_factor_verify"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("account/", views.account, name="account"),
    path("account/password/", views.password_change, name="password_change"),
    path("account/two-factor/", views.two_factor_setup, name="two_factor_setup"),
    path("account/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path(
        "account/recovery-codes/new/",
        views.regenerate_recovery_codes,
        name="recovery_codes_regenerate",
    ),
    path("settings/agencies/", views.agency_list, name="agency_list"),
    path("settings/agencies/new/", views.agency_edit, name="agency_create"),
    path("settings/agencies/<int:pk>/", views.agency_edit, name="agency_edit"),
    path("settings/users/", views.user_list, name="user_list"),
    path("settings/users/new/", views.user_edit, name="user_create"),
    path("settings/users/<int:pk>/", views.user_edit, name="user_edit"),
    path("settings/users/<int:pk>/active/", views.user_set_active, name="user_set_active"),
    path("settings/users/<int:pk>/unlock/", views.user_unlock, name="user_unlock"),
    path(
        "settings/users/<int:pk>/two-factor/reset/",
        views.user_reset_two_factor,
        name="user_reset_two_factor",
    ),
]
