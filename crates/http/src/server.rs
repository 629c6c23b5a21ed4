use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpRequest, HttpServer, web};
use diningcoach_catalog::{FoodService, ImportService, VerdictService};
use diningcoach_identity::IdentityService;
use diningcoach_kernel::health::HealthCheck;
use utoipa_swagger_ui::SwaggerUi;

use crate::catalog_imports::ImportUploads;
use crate::observe::observe;
use crate::problem::{ApiError, FieldError};
use crate::{Metrics, catalog_imports, dietary, foods, health, identity, openapi};

/// What the handlers need: the domain services (one field per domain as they arrive) and the dependencies the
/// health probes check.
pub struct Api {
    pub identity: Arc<IdentityService>,
    pub verdicts: Arc<VerdictService>,
    pub foods: Arc<FoodService>,
    pub imports: Arc<ImportService>,
    pub health_checks: Vec<Arc<dyn HealthCheck>>,
}

/// HTTP settings, with defaults for a 2-core machine.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Largest JSON body accepted; larger ones get a 413.
    pub json_limit: usize,
    /// Worker threads (actix runs one event loop per thread).
    pub workers: usize,
    /// How long in-flight requests may run on after SIGTERM.
    pub shutdown_timeout: Duration,
    /// Where catalog import uploads are written (shared with the workers).
    pub import_dir: PathBuf,
    /// Largest catalog import upload; larger ones get a 413.
    pub import_max_bytes: u64,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            json_limit: 64 * 1024,
            workers: 2,
            shutdown_timeout: Duration::from_secs(30),
            import_dir: PathBuf::from("var/imports"),
            import_max_bytes: 2 * 1024 * 1024 * 1024,
        }
    }
}

fn json_error(error: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let api_error = match &error {
        JsonPayloadError::OverflowKnownLength { limit, .. }
        | JsonPayloadError::Overflow { limit } => {
            ApiError::from_status(actix_web::http::StatusCode::PAYLOAD_TOO_LARGE)
                .with_detail(format!("The body may be at most {limit} bytes"))
        }
        JsonPayloadError::ContentType => {
            ApiError::from_status(actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE)
                .with_detail("Send the body as application/json")
        }
        // Well-formed JSON of the wrong shape (a missing field, a string for a number) is a validation problem;
        // anything else is not JSON at all.
        JsonPayloadError::Deserialize(inner) if inner.is_data() => {
            ApiError::validation(vec![FieldError::new("body", inner.to_string())])
        }
        _ => ApiError::malformed(format!("The body is not valid JSON: {error}")),
    };
    api_error.into()
}

fn query_error(error: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::validation(vec![FieldError::new("query", error.to_string())]).into()
}

fn path_error(error: PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::not_found(format!("No such resource: {error}")).into()
}

async fn no_route(req: HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::not_found(format!(
        "No route for {} {}",
        req.method(),
        req.path()
    )))
}

/// Registers every route, extractor configuration and shared state; used by the server and by tests alike.
pub fn configure(
    api: web::Data<Api>,
    metrics: web::Data<Metrics>,
    settings: &HttpSettings,
) -> impl FnOnce(&mut web::ServiceConfig) + use<> {
    let json_limit = settings.json_limit;
    let uploads = ImportUploads {
        dir: settings.import_dir.clone(),
        max_bytes: settings.import_max_bytes,
    };
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(api)
            .app_data(metrics)
            .app_data(
                web::JsonConfig::default()
                    .limit(json_limit)
                    .error_handler(json_error),
            )
            .app_data(web::PayloadConfig::default().limit(json_limit))
            .app_data(web::QueryConfig::default().error_handler(query_error))
            .app_data(web::PathConfig::default().error_handler(path_error))
            .app_data(uploads)
            .service(health::live)
            .service(health::ready)
            .service(health::metrics)
            .service(identity::sign_up)
            .service(identity::verify_email)
            .service(identity::resend_verification)
            .service(identity::log_in)
            .service(identity::refresh)
            .service(identity::log_out)
            .service(identity::request_password_reset)
            .service(identity::confirm_password_reset)
            .service(identity::change_password)
            .service(identity::me)
            .service(identity::update_me)
            .service(identity::delete_me)
            .service(identity::health_profile)
            .service(identity::replace_health)
            .service(dietary::diets)
            .service(dietary::check_label)
            .service(foods::search)
            .service(foods::by_barcode)
            .service(foods::show)
            .service(foods::show_verdict)
            .service(foods::contribute)
            .service(foods::edit)
            .service(foods::remove)
            .service(catalog_imports::request_import)
            .service(catalog_imports::import_status)
            .service(
                SwaggerUi::new("/swagger-ui/{_:.*}")
                    .url("/api-docs/openapi.json", openapi::document()),
            )
            .default_service(web::to(no_route));
    }
}

/// The application: middleware, routes and state. The server builds one per worker thread; tests build their own.
pub fn app(
    api: web::Data<Api>,
    metrics: web::Data<Metrics>,
    settings: &HttpSettings,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody + use<>>,
        Error = actix_web::Error,
        InitError = (),
    > + use<>,
> {
    App::new()
        .wrap(from_fn(observe))
        .configure(configure(api, metrics, settings))
}

/// Serves the API on `listener` until SIGTERM/SIGINT, then lets in-flight requests finish.
pub async fn serve(listener: TcpListener, api: Api, settings: HttpSettings) -> std::io::Result<()> {
    let api = web::Data::new(api);
    let metrics = web::Data::new(Metrics::default());
    let app_settings = settings.clone();
    HttpServer::new(move || app(api.clone(), metrics.clone(), &app_settings))
        .workers(settings.workers)
        .shutdown_timeout(settings.shutdown_timeout.as_secs())
        .listen(listener)?
        .run()
        .await
}
