<?php
// The page mints a signed name for the channel `news` (Herald\channel);
// POST /emit publishes a message to it (Herald\emit). In an application,
// both sit behind its firewall: who may read and who may send is decided
// here, in PHP, and heraldd only checks the signature.
declare(strict_types=1);

namespace App\Controller;

use Symfony\Bundle\FrameworkBundle\Controller\AbstractController;
use Symfony\Component\HttpFoundation\JsonResponse;
use Symfony\Component\HttpFoundation\Request;
use Symfony\Component\HttpFoundation\Response;

final class HeraldController extends AbstractController
{
    private const CHANNEL = 'news';
    private const TTL = 3600; // seconds the signed name is valid

    public function page(): Response
    {
        // Where browsers reach heraldd: HERALD_PUBLIC_URL, e.g. ws://example.com/herald
        // behind a proxy (see README "Behind nginx and php-fpm").
        $url = rtrim(getenv('HERALD_PUBLIC_URL') ?: 'ws://127.0.0.1:8080', '/');
        return $this->render('index.html.twig', [
            'herald_url' => $url,
            'herald_js' => preg_replace('#^ws#', 'http', $url) . '/herald.js',
            'channel' => \Herald\channel(self::CHANNEL, self::TTL),
        ]);
    }

    public function emit(Request $request): JsonResponse
    {
        $message = (string) $request->request->get('message', '');
        if ($message === '') {
            return new JsonResponse(['error' => 'send a non-empty "message" field'], 400);
        }
        try {
            $id = \Herald\emit(self::CHANNEL, $message);
        } catch (\Herald\Exception $e) {
            return new JsonResponse(['error' => 'heraldd: ' . $e->getMessage()], 502);
        }
        return new JsonResponse(['channel' => self::CHANNEL, 'id' => $id]);
    }
}
