<?php
// A one-file Symfony 5.4 kernel (MicroKernelTrait) on Debian's packages:
// FrameworkBundle and TwigBundle, routes and services declared here.
declare(strict_types=1);

namespace App;

use App\Controller\HeraldController;
use Symfony\Bundle\FrameworkBundle\FrameworkBundle;
use Symfony\Bundle\FrameworkBundle\Kernel\MicroKernelTrait;
use Symfony\Bundle\TwigBundle\TwigBundle;
use Symfony\Component\DependencyInjection\Loader\Configurator\ContainerConfigurator;
use Symfony\Component\HttpKernel\Kernel as BaseKernel;
use Symfony\Component\Routing\Loader\Configurator\RoutingConfigurator;

final class Kernel extends BaseKernel
{
    use MicroKernelTrait;

    public function registerBundles(): iterable
    {
        return [new FrameworkBundle(), new TwigBundle()];
    }

    // Symfony looks for composer.json upwards to find the project; this
    // example has none of its own.
    public function getProjectDir(): string
    {
        return \dirname(__DIR__);
    }

    // The compiled container and Twig's cache: APP_VAR_DIR, or var/ here.
    public function getCacheDir(): string
    {
        return (getenv('APP_VAR_DIR') ?: $this->getProjectDir() . '/var') . '/cache/' . $this->environment;
    }

    public function getLogDir(): string
    {
        return (getenv('APP_VAR_DIR') ?: $this->getProjectDir() . '/var') . '/log';
    }

    protected function configureContainer(ContainerConfigurator $c): void
    {
        $c->extension('framework', [
            'secret' => getenv('APP_SECRET') ?: 'change-me',
            'http_method_override' => false,
            'router' => ['utf8' => true],
        ]);
        $c->extension('twig', ['default_path' => '%kernel.project_dir%/templates']);
        $c->services()
            ->set(HeraldController::class)->autowire()->autoconfigure();
    }

    protected function configureRoutes(RoutingConfigurator $routes): void
    {
        $routes->add('page', '/')->controller([HeraldController::class, 'page'])->methods(['GET']);
        $routes->add('emit', '/emit')->controller([HeraldController::class, 'emit'])->methods(['POST']);
    }
}
